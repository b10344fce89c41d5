"""A worker's loop of passes, and the one way to wait for a pass to happen.

The job runner and the e-mail sender each look for due work in passes: one now, the next after a pause of real
time (`poll_seconds`) or at once when kicked. Due-ness itself is decided by the injected clock; only the pause is
real time. `next_pass()` asks for a pass that starts after the call and returns when it has finished: everything
that was due when it was called has then been run by this worker, its transaction committed and its events
published. That is how a test shows that something did *not* happen without sleeping (`assembly/testing.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

# One pass: returns how many items it claimed (ran, sent or failed); 0 means there was nothing due.
Pass = Callable[[], Awaitable[int]]


class PassLoop:
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
