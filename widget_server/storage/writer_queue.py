"""The queue of SQLite's writers, in which the chat's group commits go ahead of ORM transactions.

SQLite has one writer at a time, so every write transaction of the process waits its turn here. Two kinds wait:
group commits (message batches, hellos, heartbeats), which are one trip to a thread and hold the turn for about a
millisecond, and ORM sessions (a job, a form, an inbox action), which make a trip per statement and hold it for
as many turns of a busy event loop. In strict arrival order, a message batch queued behind a few sessions waited
for all of them, and that was most of a message's latency under load. Group commits go first here; so that the
sessions still move under a steady flow of messages, a waiting session gets the turn after at most
`QUICK_IN_A_ROW` group commits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator

QUICK_IN_A_ROW = 3


class WriterQueue:
    def __init__(self) -> None:
        self._held = False
        self._quick: deque[asyncio.Future[None]] = deque()
        self._sessions: deque[asyncio.Future[None]] = deque()
        self._quick_streak = 0

    @contextlib.asynccontextmanager
    async def turn(self, quick: bool) -> AsyncIterator[None]:
        if not self._held and not self._quick and not self._sessions:
            self._held = True
        else:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            (self._quick if quick else self._sessions).append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._pass_on()  # the turn was handed over just as the waiter gave up: hand it on
                raise
        try:
            yield
        finally:
            self._pass_on()

    def _pass_on(self) -> None:
        while (waiter := self._next()) is not None:
            if not waiter.done():  # a cancelled waiter is skipped
                waiter.set_result(None)
                return
        self._held = False

    def _next(self) -> asyncio.Future[None] | None:
        if self._quick and (not self._sessions or self._quick_streak < QUICK_IN_A_ROW):
            self._quick_streak += 1
            return self._quick.popleft()
        if self._sessions:
            self._quick_streak = 0
            return self._sessions.popleft()
        return None
