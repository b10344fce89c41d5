"""The consoles this process holds, and the one write that keeps all their presence alive.

Each console used to write its own heartbeat every 20 s: 1,000 open consoles made 50 write transactions a
second, each queued for SQLite's one writer between the chat's message batches (measured: the messages' p99 went
to seconds). One `UPDATE ... WHERE id IN (...)` per period for every console of the process costs one write.

Not a `Coalescer`: no caller waits for a heartbeat, and what is written is the set of consoles open at the time,
not the calls made since the last write. The rounds are `Periodic`'s, started by the clock (coalescer.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Connection

from widget_server.storage.coalescer import Periodic
from widget_server.storage.tables import OperatorConnection, table_of

_connections = table_of(OperatorConnection)
_CHUNK = 500  # ids per statement: SQLite's limit on bound parameters is far above, and statements stay small


class ConsoleBeats:
    def __init__(self, run_write: Callable[..., Awaitable[Any]]) -> None:
        """`run_write`: `Database.run_write`, one write transaction per period."""
        self._run_write = run_write
        self._live: set[str] = set()
        self._now: Callable[[], datetime] | None = None
        self._beats = Periodic(self._beat_now, name="console heartbeats")

    def add(self, connection_id: str) -> None:
        self._live.add(connection_id)

    def discard(self, connection_id: str) -> None:
        self._live.discard(connection_id)

    async def beat(self, now: datetime) -> int:
        """Mark every console of this process seen `now`; returns how many."""
        ids = sorted(self._live)
        if ids:
            await self._run_write(_store, ids, now)
        return len(ids)

    def start(self, every: timedelta, now: Callable[[], datetime]) -> None:
        self._now = now
        self._beats.start(every.total_seconds())

    async def stop(self) -> None:
        await self._beats.close()

    async def _beat_now(self) -> None:
        assert self._now is not None
        await self.beat(self._now())


def _store(conn: Connection, ids: list[str], now: datetime) -> None:
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        conn.execute(update(_connections).where(_connections.c.id.in_(chunk)).values(last_seen_at=now))
