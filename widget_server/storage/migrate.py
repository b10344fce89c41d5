"""Apply the Alembic migrations; used by `openline migrate`, `make run` and the tests."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config

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
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=work, name="openline-migrate")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
