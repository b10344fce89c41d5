"""The application factory: settings, database, bus and clock in; a Starlette app out."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from widget_server.assembly.jobs import job_runner, mail_sender
from widget_server.assembly.testing import settle_routes
from widget_server.clock import Clock, FileClock, SystemClock
from widget_server.config import Settings
from widget_server.errors import OpenlineError
from widget_server.realtime.bus import Bus
from widget_server.realtime.bus_choice import make_bus
from widget_server.realtime.visitor_pages import VisitorPages
from widget_server.services import presence
from widget_server.services.context import Context
from widget_server.storage.database import Database
from widget_server.web import admin_api, agenda_api, files_api, inbox_api, mail_api, pages, rest
from widget_server.web.operator_ws import operator_socket
from widget_server.web.visitor_ws import visitor_socket


class SecurityHeaders:
    """Headers every HTTP response gets; pages add their own Content-Security-Policy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"strict-origin-when-cross-origin"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings, clock: Clock | None = None, bus: Bus | None = None) -> Starlette:
    database = Database(settings.db_url, settings.sqlite_synchronous)
    the_bus = bus or make_bus(settings.redis_url, settings.redis_prefix)
    if clock is None and settings.test_clock_file is not None:
        clock = FileClock(settings.test_clock_file)  # multi-process tests only: the test moves every process's time
    ctx = Context(settings=settings, db=database, events=the_bus, clock=clock or SystemClock())
    runner = job_runner(ctx)
    ctx.kick_jobs = runner.kick
    sender = mail_sender(ctx)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await the_bus.start()
        runner.start()
        sender.start()
        presence.start_heartbeats(ctx)
        try:
            yield
        finally:
            await sender.stop()
            await runner.stop()
            await the_bus.stop()
            await database.dispose()

    app = Starlette(
        routes=[
            *pages.routes,
            *rest.routes,
            *inbox_api.routes,
            *agenda_api.routes,
            *admin_api.routes,
            *files_api.routes,
            *mail_api.routes,
            WebSocketRoute("/ws/visitor", visitor_socket),
            WebSocketRoute("/ws/operator", operator_socket),
            *settle_routes(ctx.clock, [runner.passes, sender.passes]),
        ],
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={OpenlineError: rest.openline_error},
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.bus = the_bus
    app.state.jobs = runner
    app.state.mail_sender = sender
    app.state.visitor_pages = VisitorPages()
    app.state.upload_limits = files_api.UploadLimits(settings)
    return app
