"""Grouped reads of "does this visitor have an e-mail address?", which every page a visitor closes asks.

The answer decides whether the unread-mail rules need to hear of the closed page at all (most visitors have no
address, and then nothing is written). Asked one read each, 5,000 widgets dropping at once (a deploy, a network
blip) queued 5,000 reads in front of their own reconnections. Here the questions that arrive while one read runs
are answered together by the next, one query (coalescer.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from widget_server.storage.coalescer import Coalescer
from widget_server.storage.tables import Visitor, table_of

_visitors = table_of(Visitor)
# Bound parameters per query: SQLite's limit is 32,766 since 3.32, PostgreSQL's 65,535.
_CHUNK = 5_000


class VisitorEmails:
    def __init__(self, run_read: Callable[..., Awaitable[Any]]) -> None:
        """`run_read`: `Database.run_read`, one read transaction per batch."""
        self._run_read = run_read
        self._asked: Coalescer[int, bool] = Coalescer(self._read, name="visitor-emails", max_batch=_CHUNK)

    async def has_email(self, visitor_id: int) -> bool:
        return await self._asked.submit(visitor_id)

    async def close(self) -> None:
        await self._asked.close()

    async def _read(self, visitor_ids: list[int]) -> list[bool]:
        with_email: set[int] = await self._run_read(_with_email, list(set(visitor_ids)))
        return [visitor_id in with_email for visitor_id in visitor_ids]


def _with_email(conn: Connection, visitor_ids: list[int]) -> set[int]:
    rows = conn.execute(select(_visitors.c.id, _visitors.c.email).where(_visitors.c.id.in_(visitor_ids)))
    return {visitor_id for visitor_id, email in rows if email}
