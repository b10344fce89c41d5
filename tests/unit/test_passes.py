"""The workers' loop of passes (clock.py) and the settle route built on it (assembly/testing.py), with plain
coroutines for passes: no database, no network."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from starlette.routing import Route

from widget_server.assembly.testing import settle, settle_routes
from widget_server.clock import FakeClock, FileClock, PassLoop, SystemClock


class Worker:
    """A pass that claims what `due` holds; `hold` keeps a pass in flight until the test releases it."""

    def __init__(self) -> None:
        self.due = 0
        self.passes = 0
        self.hold: asyncio.Event | None = None
        self.in_pass = asyncio.Event()

    async def one_pass(self) -> int:
        self.passes += 1
        claimed, self.due = self.due, 0
        self.in_pass.set()
        if self.hold is not None:
            await self.hold.wait()
        return claimed


async def test_next_pass_waits_for_a_pass_that_starts_after_it_was_asked_for():
    worker = Worker()
    worker.hold = asyncio.Event()
    loop = PassLoop("test", worker.one_pass, poll_seconds=3600)
    loop.start()
    try:
        await worker.in_pass.wait()  # the first pass is in flight, holding
        worker.due = 2  # made due while it runs: that pass does not see it
        asked = asyncio.create_task(loop.next_pass())
        worker.hold.set()
        # 2, not the 0 the pass in flight claimed: answered by the next pass, started at once (no 3600 s poll).
        assert await asked == 2
        assert worker.passes == 2
    finally:
        await loop.stop()


async def test_a_failed_pass_fails_who_waits_for_it_and_the_loop_goes_on():
    calls = 0

    async def flaky() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database away")
        return 0

    loop = PassLoop("test", flaky, poll_seconds=3600)
    loop.start()
    try:
        with pytest.raises(RuntimeError, match="database away"):
            await loop.next_pass()
        assert await loop.next_pass() == 0
    finally:
        await loop.stop()


async def test_without_a_running_loop_the_pass_runs_in_the_caller():
    worker = Worker()
    worker.due = 1
    assert await PassLoop("test", worker.one_pass, poll_seconds=3600).next_pass() == 1


async def test_settle_goes_round_until_no_worker_finds_anything():
    jobs, mail = Worker(), Worker()
    jobs.due = 1

    async def job_then_email() -> int:
        claimed = await jobs.one_pass()
        mail.due += claimed  # the job queued an e-mail
        return claimed

    rounds = await settle([PassLoop("jobs", job_then_email, 3600), PassLoop("mail", mail.one_pass, 3600)])
    assert rounds == 2 and (jobs.passes, mail.passes) == (2, 2) and mail.due == 0


def test_the_settle_route_exists_only_with_a_test_clock(tmp_path: Path):
    for clock in (FakeClock(), FileClock(tmp_path / "clock")):
        [route] = settle_routes(clock, [])
        assert isinstance(route, Route) and route.path == "/api/test/settle"
    assert settle_routes(SystemClock(), []) == []
