"""The consoles this process holds, and the one write that keeps all their presence alive.

Each console used to write its own heartbeat every 20 s: 1,000 open consoles made 50 write transactions a
second, each queued for SQLite's one writer between the chat's message batches (measured: the messages' p99 went
to seconds). One `UPDATE ... WHERE id IN (...)` per period for every console of the process costs one write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.engine import Connection

from widget_server.storage.tables import OperatorConnection

if TYPE_CHECKING:
    from widget_server.storage.database import Database

log = logging.getLogger(__name__)

_connections = OperatorConnection.__table__  # type: ignore[attr-defined]
_CHUNK = 500  # ids per statement: SQLite's limit on bound parameters is far above, and statements stay small


class ConsoleBeats:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._live: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def add(self, connection_id: str) -> None:
        self._live.add(connection_id)

    def discard(self, connection_id: str) -> None:
        self._live.discard(connection_id)

    async def beat(self, now: datetime) -> int:
        """Mark every console of this process seen `now`; returns how many."""
        ids = sorted(self._live)
        if ids:
            await self._db.run_write(_store, ids, now)
        return len(ids)

    def start(self, every: timedelta, now: Callable[[], datetime]) -> None:
        async def run() -> None:
            while True:
                await asyncio.sleep(every.total_seconds())
                try:
                    await self.beat(now())
                except Exception:  # a database blip must not stop the heartbeats for good
                    log.warning("console heartbeats failed", exc_info=True)

        self._task = asyncio.get_running_loop().create_task(run(), name="console-beats")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _store(conn: Connection, ids: list[str], now: datetime) -> None:
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        conn.execute(update(_connections).where(_connections.c.id.in_(chunk)).values(last_seen_at=now))
