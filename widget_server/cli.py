"""`openline serve | migrate | create-operator`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from widget_server.config import load_settings

SWITCH_INTERVAL = 0.0005  # seconds; see _serve


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from widget_server import gc_policy
    from widget_server.assembly.app import create_app
    from widget_server.server import prepare, seed_demo, uvicorn_config

    overrides: dict[str, object] = {}
    if args.port:
        overrides["port"] = args.port
    if args.host:
        overrides["host"] = args.host
    settings = load_settings(**overrides)
    if settings.redis_url and settings.secret_key is None:
        print(
            "  warning: REDIS_URL is set but SECRET_KEY is not: every process of an installation needs the same"
            " SECRET_KEY (see docs/operations.md)",
            file=sys.stderr,
        )
    prepare(settings)
    app = create_app(settings)
    base = settings.public_url
    if settings.demo:
        account = seed_demo(app)
        print("\n  Openline is starting.")
        print(f"  Demo site with the widget:  {base}/demo")
        print(f"  Operator console:           {base}/console")
        if account.password:
            print(f"  Operator login:             {account.email} / {account.password}")
            print("  (shown once: the password is stored hashed)\n")
        else:
            print(f"  Operator login:             {account.email} (password printed at first start)\n")
    # Database work runs in threads (aiosqlite's, the SQLite writer's) that need the GIL to hand each result back.
    # With the event loop busy they waited up to the default 5 ms switch interval for it, every statement, while
    # holding a pooled connection or the write lock: a storm of reconnecting visitors was welcomed at tens a second.
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc_policy.apply(gc_policy.parse_thresholds(settings.gc_thresholds))
    uvicorn.Server(uvicorn_config(app, settings)).run()


def _migrate(_: argparse.Namespace) -> None:
    from widget_server.server import prepare

    settings = load_settings()
    prepare(settings)
    print("database is up to date")


def _create_operator(args: argparse.Namespace) -> None:
    from widget_server.assembly.app import create_app
    from widget_server.server import prepare
    from widget_server.services import operators

    settings = load_settings()
    prepare(settings)
    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    app = create_app(settings)

    async def run() -> None:
        try:
            operator = await operators.create_operator(
                app.state.ctx, args.email, args.name, password, args.role, args.line
            )
            print(f"operator {operator.id} created")
        finally:
            await app.state.ctx.db.dispose()

    asyncio.run(run())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="openline", description="Openline live chat server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate, then run the server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_migrate)
    op = sub.add_parser("create-operator", help="add an operator (password read from stdin)")
    op.add_argument("email")
    op.add_argument("name")
    op.add_argument("--role", choices=["admin", "operator"], default="operator")
    op.add_argument("--line", action="append", default=[], help="a line id; repeat for several")
    op.set_defaults(func=_create_operator)
    args = parser.parse_args(argv)
    args.func(args)
