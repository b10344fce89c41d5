"""Time as a dependency: the server reads the wall clock, tests inject their own.

And the workers' loop of passes (`PassLoop`), shared by the job runner and the e-mail sender: what is due is read
from the clock; only the pause between passes is real time, and a test waits for a pass instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds


class FileClock:
    """For tests with several server processes only (`TEST_CLOCK_FILE`): a FakeClock shared through a file.

    The file holds the seconds by which the test has advanced time; every process reads it on each call, so one
    write moves the clock of all of them. A missing or empty file means no time has passed.
    """

    def __init__(self, path: Path, start: datetime | None = None) -> None:
        self.path = path
        self._start = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def offset(self) -> float:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return 0.0
        return float(text) if text else 0.0

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.offset())

    def monotonic(self) -> float:
        return 1000.0 + self.offset()

    def advance(self, seconds: float) -> None:
        # Write then rename: a reader never sees a half-written number.
        scratch = self.path.with_name(self.path.name + ".new")
        scratch.write_text(repr(self.offset() + seconds))
        scratch.replace(self.path)


# One pass: returns how many items it claimed (ran, sent or failed); 0 means there was nothing due.
Pass = Callable[[], Awaitable[int]]


class PassLoop:
    """A worker's passes: one now, the next after `poll_seconds` of real time or at once when kicked.

    `next_pass()` asks for a pass that starts after the call and returns when it has finished: everything that
    was due when it was called has then been run by this worker, its transaction committed and its events
    published. That is how a test shows that something did *not* happen without sleeping
    (`assembly/testing.py`).
    """

    def __init__(self, name: str, one_pass: Pass, poll_seconds: float, again_when_busy: bool = False) -> None:
        self.name = name
        self.one_pass = one_pass
        self.poll_seconds = poll_seconds
        # True: a pass that found work is followed at once by another (the sender, whose batch is small).
        self.again_when_busy = again_when_busy
        self._kick = asyncio.Event()
        self._waiters: list[asyncio.Future[int]] = []
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        """Look for due work now rather than after the pause (something was just made due 'now')."""
        self._kick.set()

    async def next_pass(self) -> int:
        """Wait for a pass that starts after this call; returns how many items it claimed.

        Without a running loop (not started, or nothing to do in this process) the pass runs here: nobody else
        could be running one at the same time.
        """
        if self._task is None:
            return await self.one_pass()
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self.kick()
        return await waiter

    async def _loop(self) -> None:
        while True:
            # Who asked before this pass starts is answered by it; who asks during it, by the next one.
            waiters, self._waiters = self._waiters, []
            self._kick.clear()
            claimed = 0
            try:
                claimed = await self.one_pass()
            except Exception as exc:
                log.exception("%s pass failed", self.name)
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
            else:
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(claimed)
            if claimed and self.again_when_busy:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), self.poll_seconds)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for waiter in self._waiters:
            waiter.cancel()
        self._waiters = []
