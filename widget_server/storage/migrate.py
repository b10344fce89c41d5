"""Apply the Alembic migrations; used by `openline migrate`, `make run` and the tests."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

from widget_server.storage import fulltext

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the schema to the newest revision. Safe to call when it is already there."""
    # env.py drives the async engine with asyncio.run(), which refuses to run inside a running loop; a
    # short-lived thread gives it a loop of its own whoever calls us.
    errors: list[BaseException] = []

    def work() -> None:
        try:
            command.upgrade(alembic_config(url), "head")
            asyncio.run(_ensure_fulltext(url))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=work, name="openline-migrate")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


async def _ensure_fulltext(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            if await connection.run_sync(fulltext.ensure):
                log.warning("the full-text search index was incomplete and has been rebuilt")
    finally:
        await engine.dispose()
