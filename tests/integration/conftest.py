"""A service context straight on the database (no server), on SQLite and PostgreSQL, for storage-level tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.services import PG_HOST, PG_PORT, create_pg_database, drop_pg_database, need_service, pg_url
from widget_server.clock import FakeClock
from widget_server.config import Settings
from widget_server.realtime.events import Event
from widget_server.services.context import Context
from widget_server.storage.database import Database
from widget_server.storage.migrate import upgrade


class Told:
    """What the use cases published (after their commits), in order: storage tests may look at it."""

    def __init__(self) -> None:
        self.published: list[tuple[str, Event]] = []

    def publish(self, topic: str, event: Event) -> None:
        self.published.append((topic, event))


@pytest.fixture(params=["sqlite", "postgres"])
async def ctx(request, tmp_path) -> AsyncIterator[Context]:
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'storage.db'}"
    else:
        need_service("PostgreSQL", PG_HOST, PG_PORT)
        pg_name = create_pg_database()
        url = pg_url(pg_name)
    upgrade(url)
    db = Database(url)
    settings = Settings(data_dir=tmp_path, database_url=url, secret_key="storage-tests")
    yield Context(settings=settings, db=db, events=Told(), clock=FakeClock())
    await db.dispose()
    if pg_name:
        drop_pg_database(pg_name)
