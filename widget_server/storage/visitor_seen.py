"""Group commit for the visitors' `last_seen_at` (and language), which every `hello` of a known visitor moves.

Written one transaction per hello, 5,000 visitors coming back at once (a deploy, a network blip) queued for the
one SQLite writer and took minutes to be welcomed. Here the hellos that arrive while one transaction runs are
written together by the next, one `executemany`. The hello does not wait for it (`remember` returns a future
that resolves once the row is written; a failure is logged).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, update
from sqlalchemy.engine import Connection

from widget_server.storage.tables import Visitor

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from widget_server.storage.database import Database

_visitors = Visitor.__table__  # type: ignore[attr-defined]
_UPDATE = (
    update(_visitors)
    .where(_visitors.c.id == bindparam("b_id"))
    .values(
        last_seen_at=bindparam("b_seen"),
        language=func.coalesce(bindparam("b_language", type_=_visitors.c.language.type), _visitors.c.language),
        user_agent=func.coalesce(bindparam("b_user_agent", type_=_visitors.c.user_agent.type), _visitors.c.user_agent),
        location=func.coalesce(bindparam("b_location", type_=_visitors.c.location.type), _visitors.c.location),
    )
)


class VisitorSeen:
    def __init__(self, db: Database) -> None:
        self._db = db
        # visitor id -> (seen at, language, user agent, location); None leaves a column as it is.
        self._pending: dict[int, tuple[datetime, str | None, str | None, str | None]] = {}
        self._written: asyncio.Future[None] | None = None  # resolved when the pending rows are written
        self._task: asyncio.Task[None] | None = None

    def remember(
        self,
        visitor_id: int,
        seen_at: datetime,
        language: str | None,
        user_agent: str | None = None,
        location: str | None = None,
    ) -> asyncio.Future[None]:
        """Queue the row; the future resolves once it is written (a failure is logged here, awaited or not)."""
        loop = asyncio.get_running_loop()
        earlier = self._pending.get(visitor_id)
        if earlier is not None:  # two hellos of one visitor in one batch: what either told us
            language, user_agent, location = language or earlier[1], user_agent or earlier[2], location or earlier[3]
        self._pending[visitor_id] = (seen_at, language, user_agent, location)
        if self._written is None or self._written.get_loop() is not loop:
            self._written = loop.create_future()
        written = self._written
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._write_all(), name="visitor-seen")
        return written

    async def close(self) -> None:
        if self._task is not None and self._task.get_loop() is asyncio.get_running_loop():
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _write_all(self) -> None:
        while self._pending:
            rows, self._pending = self._pending, {}
            written, self._written = self._written, None
            assert written is not None
            try:
                await self._db.run_write(_store, rows)
            except Exception as exc:
                log.exception("recording that %d visitors were seen failed", len(rows))
                if not written.done():
                    written.set_exception(exc)
                    written.exception()  # retrieved: callers that gave up must not leave it unobserved
            else:
                if not written.done():
                    written.set_result(None)


def _store(conn: Connection, rows: dict[int, tuple[datetime, str | None, str | None, str | None]]) -> None:
    params: list[dict[str, Any]] = [
        {"b_id": vid, "b_seen": seen_at, "b_language": language, "b_user_agent": agent, "b_location": location}
        for vid, (seen_at, language, agent, location) in rows.items()
    ]
    conn.execute(_UPDATE, params)
