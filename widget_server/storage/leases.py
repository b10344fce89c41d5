"""Claiming due work with a lease: the durable queues' one way to hand a row to one worker at a time.

A row of a queue (a job, an e-mail) waits with a due time; a worker claims a batch of due rows and marks them as
its own until `locked_until`. A worker that dies mid-work leaves its lease to run out, and the row is claimed again.
On PostgreSQL the claim skips rows another worker holds locked (`SKIP LOCKED`), so workers on several processes
never take the same row; on SQLite the process's one writer claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from widget_server.storage.tables import table_of

Row = TypeVar("Row", bound=SQLModel)


async def claim_due(
    s: AsyncSession,
    model: type[Row],
    now: datetime,
    *,
    waiting: str,
    working: str,
    due_column: str,
    limit: int,
    order_by: Sequence[str] = ("id",),
    where: Sequence[ColumnElement[bool]] = (),
) -> list[Row]:
    """Up to `limit` rows that wait and are due at `now`, or whose worker's lease ran out, locked for the caller's
    transaction (which marks them `working` with a lease of its own)."""
    table = table_of(model)
    columns = table.c
    due_or_abandoned = or_(
        (columns.status == waiting) & (columns[due_column] <= now),
        (columns.status == working) & (columns.locked_until < now),
    )
    query = (
        select(model)
        .where(*where, due_or_abandoned)
        .order_by(*(columns[name] for name in order_by))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await s.execute(query)).scalars().all())
