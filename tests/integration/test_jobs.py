"""Durable jobs: due at their time by the injected clock, run once, across restarts and competing runners."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from widget_server.jobs import store
from widget_server.jobs.runner import MAX_ATTEMPTS, Handler, JobRunner
from widget_server.storage.tables import Counter, Job


@pytest.fixture(autouse=True)
async def run_counter(ctx) -> None:
    async with ctx.db.write() as s:
        s.add(Counter(name="runs", value=0))


def runner_for(ctx, handler: Handler, **options) -> JobRunner:
    """A runner driven by hand; these jobs publish nothing."""
    return JobRunner(ctx.db, ctx.clock, {"count": handler}, publish=lambda events: None, **options)


async def count_run(s, job) -> None:
    """The job's effect, written in the runner's transaction: add one to a counter."""
    await s.execute(update(Counter).where(Counter.name == "runs").values(value=Counter.value + 1))


async def runs(ctx) -> int:
    async with ctx.db.read() as s:
        return (await s.execute(select(Counter.value).where(Counter.name == "runs"))).scalar_one()


async def schedule(ctx, key: str, seconds: float) -> None:
    now = ctx.clock.now()
    async with ctx.db.write() as s:
        await store.schedule(s, "count", key, now + timedelta(seconds=seconds), {}, now)


async def test_a_job_fires_at_its_time_and_only_once(ctx):
    runner = runner_for(ctx, count_run)
    await schedule(ctx, "form:1", 5)
    ctx.clock.advance(4.9)
    assert await runner.run_due() == 0
    ctx.clock.advance(0.1)
    assert await runner.run_due() == 1
    ctx.clock.advance(60)
    assert await runner.run_due() == 0
    assert await runs(ctx) == 1


async def test_a_cancelled_job_never_fires_and_rescheduling_moves_it(ctx):
    runner = runner_for(ctx, count_run)
    await schedule(ctx, "form:2", 5)
    async with ctx.db.write() as s:
        assert await store.cancel(s, "form:2") is True
    ctx.clock.advance(10)
    assert await runner.run_due() == 0
    await schedule(ctx, "form:3", 5)
    await schedule(ctx, "form:3", 30)  # moved, not doubled
    ctx.clock.advance(10)
    assert await runner.run_due() == 0
    ctx.clock.advance(20)
    assert await runner.run_due() == 1
    await schedule(ctx, "form:3", 1)  # a key that already fired stays fired
    ctx.clock.advance(5)
    assert await runner.run_due() == 0
    assert await runs(ctx) == 1


async def test_a_job_scheduled_before_a_restart_fires_after_it(ctx):
    await schedule(ctx, "form:4", 5)
    await ctx.db.dispose()  # the process goes away; the row stays
    ctx.clock.advance(6)
    restarted = runner_for(ctx, count_run)
    assert await restarted.run_due() == 1
    assert await runs(ctx) == 1


async def test_a_runner_that_died_mid_job_loses_it_to_another_after_the_lease(ctx):
    await schedule(ctx, "form:5", 0)
    dead = runner_for(ctx, count_run, node="dead", lease=timedelta(seconds=30))
    assert len(await dead.claim()) == 1  # claimed, then the process is killed before it runs
    alive = runner_for(ctx, count_run, node="alive")
    assert await alive.run_due() == 0  # still leased
    ctx.clock.advance(31)
    assert await alive.run_due() == 1
    # The dead runner's late attempt, if it came back, finds the lease gone and does nothing.
    job = (await dead.claim()) or None
    assert job is None
    assert await runs(ctx) == 1


async def test_competing_runners_run_each_job_exactly_once(ctx):
    for n in range(40):
        await schedule(ctx, f"many:{n}", 1)
    ctx.clock.advance(2)
    runners = [runner_for(ctx, count_run, node=f"node-{n}", batch=7) for n in range(4)]

    async def drain(runner: JobRunner) -> int:
        total = 0
        while ran := await runner.run_due():
            total += ran
        return total

    totals = await asyncio.gather(*(drain(r) for r in runners))
    assert sum(totals) == 40
    assert await runs(ctx) == 40


async def test_a_failing_job_is_retried_with_backoff_then_marked_failed(ctx):
    attempts = []

    async def broken(s, job):
        attempts.append(ctx.clock.now())
        raise RuntimeError("SMTP said no")

    runner = runner_for(ctx, broken)
    await schedule(ctx, "broken:1", 0)
    for _ in range(MAX_ATTEMPTS):
        await runner.run_due()
        ctx.clock.advance(3600)
    async with ctx.db.read() as s:
        job = (await s.execute(select(Job).where(Job.key == "broken:1"))).scalar_one()
    assert len(attempts) == MAX_ATTEMPTS
    assert (attempts[1] - attempts[0]) >= timedelta(seconds=5)
    assert job.status == "failed" and "SMTP said no" in job.last_error
