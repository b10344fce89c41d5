"""Scheduling and cancelling jobs inside the caller's transaction, so a job exists if and only if the change
that asked for it was committed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.storage.tables import Job, table_of

_jobs = table_of(Job)

PENDING, RUNNING, DONE, CANCELLED, FAILED = "pending", "running", "done", "cancelled", "failed"


async def schedule(
    s: AsyncSession, kind: str, key: str, due_at: datetime, payload: dict[str, Any], now: datetime
) -> Job:
    """Create the job, or move a pending (or cancelled) one with this key to the new time.

    A job that already ran is left alone: a key names one occurrence, and it fires once.
    """
    job = (await s.execute(select(Job).where(_jobs.c.key == key).with_for_update())).scalar_one_or_none()
    if job is None:
        job = Job(kind=kind, key=key, payload=payload, status=PENDING, due_at=due_at, created_at=now)
        s.add(job)
        await s.flush()
        return job
    if job.status in (PENDING, CANCELLED):
        job.status, job.due_at, job.payload, job.kind = PENDING, due_at, payload, kind
    return job


async def cancel(s: AsyncSession, key: str) -> bool:
    """Cancel a pending job; True when there was one."""
    result = await s.execute(update(Job).where(_jobs.c.key == key, _jobs.c.status == PENDING).values(status=CANCELLED))
    assert isinstance(result, CursorResult)  # an UPDATE's result: it counts the rows changed
    return bool(result.rowcount)


async def find(s: AsyncSession, key: str) -> Job | None:
    return (await s.execute(select(Job).where(_jobs.c.key == key))).scalar_one_or_none()
