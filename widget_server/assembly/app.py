"""The application put together: settings, database, bus and clock in; a Starlette app out.

The one place that knows every part (docs/architecture.md): it makes the database and the bus, binds the job
handlers and mail hooks to the use cases (jobs.py), starts and stops the background work, and hands the context
to the web layer.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from widget_server.assembly.jobs import job_runner, mail_sender
from widget_server.assembly.testing import settle_routes
from widget_server.clock import Clock, FileClock, SystemClock
from widget_server.config import Settings
from widget_server.realtime.bus import Bus
from widget_server.realtime.bus_choice import make_bus
from widget_server.services import presence
from widget_server.services.context import Context
from widget_server.storage.database import Database
from widget_server.web.app import web_app


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

    extra = settle_routes(ctx.clock, [runner.passes, sender.passes], database.consoles.beat)
    return web_app(ctx, lifespan, extra, bus=the_bus, jobs=runner, mail_sender=sender)
