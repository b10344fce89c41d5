"""Running the app under uvicorn with our limits; shared by the CLI and the tests."""

from __future__ import annotations

import asyncio

import uvicorn
from starlette.applications import Starlette

from widget_server.config import Settings
from widget_server.realtime.ws_protocol import WireProtocol
from widget_server.services.context import Context
from widget_server.services.demo import DemoAccount, ensure_demo
from widget_server.storage import migrate
from widget_server.web.socket_shortcut import SocketShortcut


def uvicorn_config(
    app: Starlette, settings: Settings, host: str | None = None, port: int | None = None
) -> uvicorn.Config:
    return uvicorn.Config(
        SocketShortcut(app),
        host=host or settings.host,
        port=settings.port if port is None else port,
        # The sans-I/O websockets backend: it enforces the frame cap (closing with 1009) and the ping interval;
        # ours adds a writer for frames encoded once for every client (realtime/ws_protocol.py).
        ws=WireProtocol,
        ws_max_size=settings.max_frame_bytes,
        ws_per_message_deflate=settings.ws_per_message_deflate,
        ws_ping_interval=settings.ws_ping_seconds,
        ws_ping_timeout=settings.ws_ping_timeout_seconds,
        log_level=settings.log_level,
        lifespan="on",
        proxy_headers=True,
    )


def prepare(settings: Settings) -> None:
    """Migrate the database; idempotent."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.db_url)


def seed_demo(app: Starlette) -> DemoAccount:
    ctx: Context = app.state.ctx

    async def run() -> DemoAccount:
        try:
            return await ensure_demo(ctx)
        finally:
            # The engine's connections belong to this short loop; drop them before uvicorn starts its own.
            await ctx.db.dispose()

    return asyncio.run(run())
