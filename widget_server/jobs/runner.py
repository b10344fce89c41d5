"""The worker that runs due jobs.

Claiming marks a job `running` with a lease (`locked_until`) in a short transaction; on PostgreSQL the claim uses
`FOR UPDATE SKIP LOCKED`, so processes never wait for each other or take the same job. A handler does its
database work in the same transaction that marks the job `done`, after checking that this process still holds
the lease: a job's effects are committed once or not at all. A process killed mid-job leaves a `running` row
whose lease expires; then any process claims it again.

The runner knows no use case: the handlers, bound to what they need, and the callable that publishes their
events come from where the app is assembled (`widget_server/assembly/jobs.py`).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.clock import Clock, PassLoop
from widget_server.jobs.store import DONE, FAILED, PENDING, RUNNING
from widget_server.realtime.events import Event
from widget_server.storage.database import Database
from widget_server.storage.leases import claim_due
from widget_server.storage.tables import Job, table_of

_jobs = table_of(Job)

log = logging.getLogger(__name__)

PublishList = list[tuple[tuple[str, ...], Event]]
# Does the job's work in the runner's transaction; returns the events to publish once it has committed.
Handler = Callable[[AsyncSession, Job], Awaitable[PublishList | None]]
Publish = Callable[[PublishList], None]

MAX_ATTEMPTS = 8


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


class JobRunner:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        handlers: dict[str, Handler],
        publish: Publish,
        node: str | None = None,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 50,
        poll_seconds: float = 0.2,
    ) -> None:
        self.db = db
        self.clock = clock
        self.handlers = handlers
        self.publish = publish
        self.node = node or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"[:64]
        self.lease = lease
        self.batch = batch
        self.passes = PassLoop("job runner", self._pass, poll_seconds)

    async def claim(self) -> list[Job]:
        now = self.clock.now()
        async with self.db.write() as s:
            due = await claim_due(
                s,
                Job,
                now,
                waiting=PENDING,
                working=RUNNING,
                due_column="due_at",
                limit=self.batch,
                order_by=("due_at", "id"),
                where=[_jobs.c.kind.in_(list(self.handlers))],
            )
            for job in due:
                job.status, job.locked_by = RUNNING, self.node
                job.locked_until = now + self.lease
                job.attempts += 1
        return list(due)

    async def run_due(self) -> int:
        """Run every job that is due now; returns how many ran to completion."""
        done = 0
        for job in await self.claim():
            done += await self._run(job)
        return done

    async def _pass(self) -> int:
        claimed = await self.claim()
        for job in claimed:
            await self._run(job)
        return len(claimed)

    async def _run(self, claimed: Job) -> int:
        handler = self.handlers[claimed.kind]
        try:
            async with self.db.write() as s:
                job = await s.get(Job, claimed.id, with_for_update=True)
                if job is None or job.status != RUNNING or job.locked_by != self.node:
                    return 0  # the lease expired and someone else has it now
                events = await handler(s, job)
                job.status, job.finished_at, job.locked_until = DONE, self.clock.now(), None
        except Exception as exc:
            log.warning("job %s (%s) failed: %r", claimed.id, claimed.kind, exc)
            await self._failed(claimed, exc)
            return 0
        # Only now, after the commit: nobody hears of an effect that could still be rolled back.
        self.publish(events or [])
        return 1

    async def _failed(self, claimed: Job, exc: Exception) -> None:
        now = self.clock.now()
        async with self.db.write() as s:
            job = await s.get(Job, claimed.id, with_for_update=True)
            if job is None or job.locked_by != self.node or job.status != RUNNING:
                return
            job.last_error = repr(exc)[:2000]
            job.locked_until = None
            if job.attempts >= MAX_ATTEMPTS:
                job.status, job.finished_at = FAILED, now
            else:
                job.status, job.due_at = PENDING, now + retry_delay(job.attempts)

    def kick(self) -> None:
        """Look for due jobs now rather than at the next poll (a job was just scheduled for 'now')."""
        self.passes.kick()

    def start(self) -> None:
        if self.handlers:
            self.passes.start()

    async def stop(self) -> None:
        await self.passes.stop()
