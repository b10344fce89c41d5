"""Group commit for the visitors' `last_seen_at` (and language), which every `hello` of a known visitor moves.

Written one transaction per hello, 5,000 visitors coming back at once (a deploy, a network blip) queued for the
one SQLite writer and took minutes to be welcomed. Here the hellos that arrive while one transaction runs are
written together by the next, one `executemany` (coalescer.py). The hello does not wait for it (`remember`
returns a future that resolves once the row is written; a failure is logged).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy.engine import Connection

from widget_server.storage.coalescer import Coalescer
from widget_server.storage.tables import Visitor, table_of

log = logging.getLogger(__name__)

_visitors = table_of(Visitor)
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

# visitor id, seen at, language, user agent, location; None leaves a column as it is.
Seen = tuple[int, datetime, str | None, str | None, str | None]


class VisitorSeen:
    def __init__(self, run_write: Callable[..., Awaitable[Any]]) -> None:
        """`run_write`: `Database.run_write`, one write transaction per batch."""
        self._run_write = run_write
        self._hellos: Coalescer[Seen, None] = Coalescer(self._write, name="visitor-seen")

    def remember(
        self,
        visitor_id: int,
        seen_at: datetime,
        language: str | None,
        user_agent: str | None = None,
        location: str | None = None,
    ) -> asyncio.Future[None]:
        """Queue the row; the future resolves once it is written (a failure is logged here, awaited or not)."""
        written = self._hellos.submit((visitor_id, seen_at, language, user_agent, location))
        written.add_done_callback(_log_failure)
        return written

    async def close(self) -> None:
        await self._hellos.close()

    async def _write(self, hellos: list[Seen]) -> list[None]:
        await self._run_write(_store, _merged(hellos))
        return [None] * len(hellos)


def _merged(hellos: list[Seen]) -> list[Seen]:
    """One row per visitor: two hellos of one visitor in one batch leave what either told us, the later first."""
    rows: dict[int, Seen] = {}
    for hello in hellos:
        earlier = rows.get(hello[0])
        if earlier is not None:
            hello = (hello[0], hello[1], hello[2] or earlier[2], hello[3] or earlier[3], hello[4] or earlier[4])
        rows[hello[0]] = hello
    return list(rows.values())


def _log_failure(written: asyncio.Future[None]) -> None:
    if not written.cancelled() and (exc := written.exception()) is not None:
        log.error("recording that a visitor was seen failed", exc_info=exc)


def _store(conn: Connection, rows: list[Seen]) -> None:
    params: list[dict[str, Any]] = [
        {"b_id": vid, "b_seen": seen_at, "b_language": language, "b_user_agent": agent, "b_location": location}
        for vid, seen_at, language, agent, location in rows
    ]
    conn.execute(_UPDATE, params)
