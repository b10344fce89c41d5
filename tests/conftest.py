"""Fixtures: a real server on SQLite and on PostgreSQL, clients, and the injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from tests.support.live_server import LiveServer
from tests.support.services import (
    PG_HOST,
    PG_PORT,
    REDIS_HOST,
    REDIS_PORT,
    create_pg_database,
    drop_pg_database,
    need_service,
    pg_url,
    redis_settings,
)
from widget_server.clock import FakeClock

ARTIFACTS = Path(__file__).parent / "artifacts"

# A loaded 2-core CI machine can make one example take longer than Hypothesis' 200 ms default deadline; our
# properties are about correctness, never speed (speed is measured in bench/).
hypothesis_settings.register_profile("openline", deadline=None)
hypothesis_settings.load_profile("openline")


def _database(kind: str, tmp: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp / 'openline.db'}", None
    need_service("PostgreSQL", PG_HOST, PG_PORT)
    need_service("Redis", REDIS_HOST, REDIS_PORT)
    name = create_pg_database()
    return pg_url(name), name


def _mode(kind: str) -> dict[str, object]:
    """The two installations the suite runs against: one process on SQLite with the in-process bus, and the
    scaled mode, PostgreSQL with the Redis bus (one process here; tests/integration/test_many_processes.py runs
    several)."""
    return {} if kind == "sqlite" else redis_settings()


# "postgres" is the scaled mode: PostgreSQL and Redis.
@pytest.fixture(params=["sqlite", "postgres"], scope="module")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def server(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server per test module and database; tests isolate themselves with lines of their own."""
    tmp = tmp_path_factory.mktemp(f"server-{db_kind}")
    url, pg_name = _database(db_kind, tmp)
    live = LiveServer(data_dir=tmp, database_url=url, clock=FakeClock(), overrides=_mode(db_kind)).start()
    try:
        yield live
    finally:
        live.stop()
        if pg_name:
            drop_pg_database(pg_name)


@pytest.fixture
def fresh_server(db_kind: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A server of the test's own, for tests that restart it or change its settings."""
    url, pg_name = _database(db_kind, tmp_path)
    live = LiveServer(data_dir=tmp_path, database_url=url, clock=FakeClock(), overrides=_mode(db_kind))
    try:
        yield live
    finally:
        live.stop()
        if pg_name:
            drop_pg_database(pg_name)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
