"""SQLITE_SYNCHRONOUS: whether every commit is flushed to disk (a power cut then loses nothing acknowledged)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from widget_server.config import load_settings
from widget_server.storage.database import Database

NORMAL, FULL = 1, 2  # what `PRAGMA synchronous` answers


def _levels(db: Database) -> set[int]:
    """The level on every kind of connection the server writes or reads with."""
    levels = set()
    for sync_engine in (db.engines.sync_writer, db.engines.sync_reader):
        assert sync_engine is not None
        with sync_engine.connect() as conn:
            levels.add(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())

    async def through_the_async_engines() -> None:
        for engine in (db.engines.main, db.engines.writer):
            async with engine.connect() as conn:
                levels.add((await conn.execute(text("PRAGMA synchronous"))).scalar_one())
        await db.dispose()

    asyncio.run(through_the_async_engines())
    return levels


@pytest.mark.parametrize(("setting", "expected"), [(None, FULL), ("normal", NORMAL), ("full", FULL)])
def test_every_connection_commits_as_the_setting_says(tmp_path, monkeypatch, setting, expected):
    # By default every commit is flushed: an acknowledged message survives a power cut.
    if setting is not None:
        monkeypatch.setenv("SQLITE_SYNCHRONOUS", setting)
    settings = load_settings()
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'openline.db'}", settings.sqlite_synchronous)
    assert _levels(db) == {expected}


def test_an_unknown_level_names_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(SystemExit):
        load_settings()
    assert "SQLITE_SYNCHRONOUS" in capsys.readouterr().err
