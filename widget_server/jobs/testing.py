"""A job kind for the multi-process tests, registered only when `TEST_CLOCK_FILE` is set (never in production).

`test.say` posts `payload["text"]` into dialog `payload["dialog_id"]` in the line's name: a timer whose effect a
visitor sees, so a test can tell that it ran exactly once. With `payload["hold"]` (a file path) the first attempt
writes this process's pid to `<hold>.started` and then waits for `<hold>.release` to exist: the test can kill the
process in the middle of the job.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.jobs.runner import Handler, PublishList
from widget_server.services import dialogs
from widget_server.services.context import Context
from widget_server.storage.tables import Job

HOLD_LIMIT_SECONDS = 60
POLL_SECONDS = 0.02


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
    return await dialogs.add_bot_message(ctx, s, int(job.payload["dialog_id"]), str(job.payload["text"]))


def test_handlers() -> dict[str, Handler]:
    return {"test.say": say}
