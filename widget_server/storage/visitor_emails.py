"""Grouped reads of "does this visitor have an e-mail address?", which every page a visitor closes asks.

The answer decides whether the unread-mail rules need to hear of the closed page at all (most visitors have no
address, and then nothing is written). Asked one read each, 5,000 widgets dropping at once (a deploy, a network
blip) queued 5,000 reads in front of their own reconnections. Here the questions that arrive while one read runs
are answered together by the next, one query.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.engine import Connection

from widget_server.storage.tables import Visitor

if TYPE_CHECKING:
    from widget_server.storage.database import Database

_visitors = Visitor.__table__  # type: ignore[attr-defined]
# Bound parameters per query: SQLite's limit is 32,766 since 3.32, PostgreSQL's 65,535.
_CHUNK = 5_000


class VisitorEmails:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: dict[int, asyncio.Future[bool]] = {}
        self._task: asyncio.Task[None] | None = None

    async def has_email(self, visitor_id: int) -> bool:
        loop = asyncio.get_running_loop()
        future = self._pending.get(visitor_id)
        if future is None or future.get_loop() is not loop:
            future = self._pending[visitor_id] = loop.create_future()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._read_all(), name="visitor-emails")
        return await asyncio.shield(future)

    async def close(self) -> None:
        if self._task is not None and self._task.get_loop() is asyncio.get_running_loop():
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _read_all(self) -> None:
        while self._pending:
            asked, self._pending = self._pending, {}
            try:
                with_email = await self._db.run_read(_with_email, list(asked))
            except Exception as exc:
                for future in asked.values():
                    if not future.done():
                        future.set_exception(exc)
                        future.exception()  # retrieved: callers that gave up must not leave it unobserved
            else:
                for visitor_id, future in asked.items():
                    if not future.done():
                        future.set_result(visitor_id in with_email)


def _with_email(conn: Connection, visitor_ids: list[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(visitor_ids), _CHUNK):
        chunk = visitor_ids[start : start + _CHUNK]
        rows = conn.execute(select(_visitors.c.id, _visitors.c.email).where(_visitors.c.id.in_(chunk)))
        found.update(visitor_id for visitor_id, email in rows if email)
    return found
