"""What exists only while a test clock is in use (a FakeClock injected by the tests, or `TEST_CLOCK_FILE`), never
in production.

`POST /api/test/settle` beats the consoles' presence once at the clock's time, then runs the job runner's and the
sender's passes until a round of both finds nothing due at
the clock's time, and answers when they are done. A test moves the clock, settles, and may then assert that
nothing happened: every job and e-mail that time made due has run, committed and published its events. (A
visitor's or operator's frames from them are then queued on the socket before the answer to any frame the test
sends next: the server handles a connection's frames in order.)

`test.say` is a job kind for the multi-process tests, registered only when `TEST_CLOCK_FILE` is set: it posts
`payload["text"]` into dialog `payload["dialog_id"]` in the line's name, a timer whose effect a visitor sees, so
a test can tell that it ran exactly once. With `payload["hold"]` (a file path) the first attempt writes this
process's pid to `<hold>.started` and then waits for `<hold>.release` to exist: the test can kill the process in
the middle of the job.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from widget_server.clock import Clock, FakeClock, FileClock, PassLoop
from widget_server.jobs.runner import Handler, PublishList
from widget_server.services import dialog_messages
from widget_server.services.context import Context
from widget_server.storage.tables import Job

HOLD_LIMIT_SECONDS = 60
POLL_SECONDS = 0.02
# A round that still finds work after this many means something keeps making itself due: say so, do not spin.
MAX_ROUNDS = 50


def is_test_clock(clock: Clock) -> bool:
    return isinstance(clock, FakeClock | FileClock)


async def settle(workers: Sequence[PassLoop]) -> int:
    """Passes of every worker in turn (a job may queue an e-mail, an e-mail's outcome may post a message) until a
    whole round claims nothing; returns the number of rounds."""
    for rounds in range(1, MAX_ROUNDS + 1):
        claimed = 0
        for worker in workers:
            claimed += await worker.next_pass()
        if not claimed:
            return rounds
    raise RuntimeError(f"still finding due work after {MAX_ROUNDS} rounds")


def settle_routes(
    clock: Clock, workers: Sequence[PassLoop], heartbeat: Callable[[datetime], Awaitable[object]] | None = None
) -> list[BaseRoute]:
    """The routes a test server has besides the product's; none without a test clock. `heartbeat`: the consoles'
    presence round (it runs on real time), done once at the clock's time before the workers settle."""
    if not is_test_clock(clock):
        return []

    async def settle_endpoint(request: Request) -> Response:
        if heartbeat is not None:
            await heartbeat(clock.now())
        return JSONResponse({"rounds": await settle(workers)})

    return [Route("/api/test/settle", settle_endpoint, methods=["POST"])]


async def _wait_for(path: Path) -> None:
    # Polling in real time: the other side is the test process, and no event crosses processes.
    for _ in range(int(HOLD_LIMIT_SECONDS / POLL_SECONDS)):
        if await asyncio.to_thread(path.exists):
            return
        await asyncio.sleep(POLL_SECONDS)
    raise TimeoutError(f"{path} did not appear")


async def say(ctx: Context, s: AsyncSession, job: Job) -> PublishList:
    hold = job.payload.get("hold")
    if hold and job.attempts == 1:
        await asyncio.to_thread(Path(f"{hold}.started").write_text, str(os.getpid()))
        await _wait_for(Path(f"{hold}.release"))
    return await dialog_messages.add_bot_message(ctx, s, int(job.payload["dialog_id"]), str(job.payload["text"]))


def test_handlers(ctx: Context) -> dict[str, Handler]:
    return {"test.say": partial(say, ctx)}
