"""Calls that arrive while one trip to the database runs are done together by the next: one trip, many callers.

A caller hands in an item and gets a future. The first item of a quiet moment starts a round at once (in the next
turn of the loop, so the items of that turn go with it); while a round's trip runs, the items that arrive wait,
and the next round takes them all, up to `max_batch`. Batches are as large as the load makes them: under light
load an item goes alone, under heavy load one trip answers hundreds.

The batch function takes the items and returns one result per item, in order; each caller's future gets its own.
When it raises, the batch is tried again one item at a time, so one bad item fails its own caller and no other.
A caller that gave up (its future was cancelled, its connection closed) is skipped by the rounds after.

The rounds run in a task on the loop of the first caller. A server restarted on a new loop (the tests start one
per test, each in its own thread) starts a new one there; what was pending on the old loop is dropped with it.

`Periodic` is the same round started by the clock rather than by callers (console_beats.py): there is nobody to
answer, only a state to write every period, so it shares the lifecycle and not the futures.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


class Coalescer(Generic[Item, Result]):
    def __init__(
        self, batch: Callable[[list[Item]], Awaitable[list[Result]]], *, name: str, max_batch: int = 500
    ) -> None:
        self._batch = batch
        self._name = name
        self._max_batch = max_batch
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def submit(self, item: Item) -> asyncio.Future[Result]:
        """Queue `item` for the next round; the future resolves with its result or its exception.

        Cancelling the future takes the item out if its round has not started (awaiting it and being cancelled does
        that). Nobody has to await it: an exception nobody retrieved is not reported by asyncio (the owner logs).
        """
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # The old loop's items and task went with it (a test server restarted on a new loop).
            self._loop, self._pending, self._task = loop, [], None
        future: asyncio.Future[Result] = loop.create_future()
        self._pending.append((item, future))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name=self._name)
        return future

    async def close(self, drain: bool = True) -> None:
        """Stop at shutdown: once every item queued (and queued meanwhile) is done, or at once (`drain=False`,
        the callers waiting get `CancelledError`). Nothing to do from another loop than the rounds' (it is gone)."""
        loop = asyncio.get_running_loop()
        # Items queued while it drains may start a new task once this one ends: wait for that one too.
        while (task := self._task) is not None and task.get_loop() is loop and not task.done():
            if not drain:
                task.cancel()
            await asyncio.wait([task])  # not `await task`: its cancellation is not ours to re-raise

    async def _run(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
                await self._round(batch)
        except asyncio.CancelledError:
            batch, self._pending = self._pending, []
            for _, future in batch:
                future.cancel()
            raise

    async def _round(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        live = [(item, future) for item, future in batch if not future.done()]
        if not live:
            return
        try:
            results = await self._batch([item for item, _ in live])
        except asyncio.CancelledError:
            for _, future in live:
                future.cancel()
            raise
        except Exception as exc:
            if len(live) == 1:
                _fail(live[0][1], exc)
                return
            log.warning("%s: a batch of %d failed (%r); trying them one by one", self._name, len(live), exc)
            for one in live:
                await self._round([one])
            return
        if len(results) != len(live):
            # A bug in the batch function, not a bad item: the trip may have written them all, so no retry.
            error = RuntimeError(f"{self._name}: {len(results)} results for {len(live)} items")
            for _, future in live:
                _fail(future, error)
            return
        for (_, future), result in zip(live, results, strict=True):
            if not future.done():
                future.set_result(result)


def _fail(future: asyncio.Future[Result], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
        future.exception()  # retrieved: a caller that does not await (fire and forget) must not leave it unobserved


class Periodic:
    """`work()` every `every` seconds in a task on the loop that started it, until `close()`; a failed round is
    logged and the next one runs on time (a database blip must not stop it for good)."""

    def __init__(self, work: Callable[[], Awaitable[object]], *, name: str) -> None:
        self._work = work
        self._name = name
        self._task: asyncio.Task[None] | None = None

    def start(self, every: float) -> None:
        loop = asyncio.get_running_loop()
        if self._task is not None and not self._task.done() and self._task.get_loop() is loop:
            return  # already running here: a second task would write twice a period
        self._task = loop.create_task(self._run(every), name=self._name)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None and task.get_loop() is asyncio.get_running_loop():
            task.cancel()
            await asyncio.wait([task])

    async def _run(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self._work()
            except Exception:
                log.warning("%s failed", self._name, exc_info=True)
