"""Several real server processes, one installation: PostgreSQL and Redis shared, no sticky sessions.

Each process is `python -m widget_server serve` on a port of its own; clients connect to whichever they like, as
behind a load balancer. Time is the shared file clock (`TEST_CLOCK_FILE`), moved by the test.

Showing that nothing (more) came without waiting for it: a pong orders only what the client's own process
queued, while an event from the other process crosses Redis. Redis keeps one publisher's order, so a frame the
other process published after everything else is a barrier: once it has arrived, so has all it published before.
That a timer did not run (or ran once) is read from the database after both processes have settled.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed

from tests.support.clients import OperatorClient, Visitor, api, login, make_line, make_operator, new_id
from tests.support.processes import RedisProcess, ServerProcess, need_redis_server
from tests.support.services import (
    PG_HOST,
    PG_PORT,
    REDIS_HOST,
    REDIS_PORT,
    create_pg_database,
    drop_pg_database,
    need_service,
    pg_url,
    redis_settings,
)
from widget_server.clock import FileClock
from widget_server.jobs import store
from widget_server.storage.database import Database
from widget_server.storage.tables import Job, Message, OpenLine, Operator

pytestmark = pytest.mark.postgres

LEASE_SECONDS = 60  # JobRunner's default lease


@dataclass
class Cluster:
    a: ServerProcess
    b: ServerProcess
    database_url: str
    clock: FileClock

    def stop(self) -> None:
        for process in (self.a, self.b):
            process.stop()

    async def settle(self) -> None:
        """Both processes' due work done. A job one of them had claimed when the other settled is finished by
        the time its own process has settled (a pass waits for the one in flight)."""
        for process in (self.a, self.b):
            await process.settle()


def start_cluster(tmp: Path, database_url: str, redis_url: str, redis_prefix: str) -> Cluster:
    clock = FileClock(tmp / "clock")
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": redis_prefix}
    a = ServerProcess("a", tmp / "a", database_url, clock, env)
    b = ServerProcess("b", tmp / "b", database_url, clock, env)
    cluster = Cluster(a, b, database_url, clock)
    try:
        # Both at once, on a fresh database: they migrate and seed the demo one after the other, not twice.
        for process in (a, b):
            process.launch()
        for process in (a, b):
            process.wait_ready()
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    need_service("PostgreSQL", PG_HOST, PG_PORT)
    need_service("Redis", REDIS_HOST, REDIS_PORT)
    name = create_pg_database()
    redis = redis_settings()
    cluster = start_cluster(
        tmp_path_factory.mktemp("cluster"), pg_url(name), str(redis["redis_url"]), str(redis["redis_prefix"])
    )
    try:
        yield cluster
    finally:
        cluster.stop()
        drop_pg_database(name)


def shared_line(cluster: Cluster, token: str) -> dict[str, Any]:
    """A line the widget may open from either process's address (behind a proxy they would share one)."""
    return make_line(cluster.a, token, allowed_origins=[cluster.a.url, cluster.b.url])


async def messages_until(client: Visitor | OperatorClient, last_seq: int, dialog_id: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while not got or got[-1]["seq"] < last_seq:
        got.append(await client.expect("message", dialog_id=dialog_id, timeout=10))
    return got


def reminders(frames: list[dict[str, Any]], text: str = "Your reminder") -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] == "message" and f["text"] == text]


async def schedule_say(cluster: Cluster, dialog_id: int, text: str, after: float, hold: Path | None = None) -> str:
    """A `test.say` timer, written to the shared database as a feature would in its own transaction."""
    key = f"test:{new_id()}"
    now = cluster.clock.now()
    payload = {"dialog_id": dialog_id, "text": text, "hold": str(hold) if hold else None}
    db = Database(cluster.database_url)
    try:
        async with db.write() as s:
            await store.schedule(s, "test.say", key, now + timedelta(seconds=after), payload, now)
    finally:
        await db.dispose()
    return key


async def job_and_copies(cluster: Cluster, key: str, dialog_id: int, text: str) -> tuple[Job, int]:
    db = Database(cluster.database_url)
    try:
        async with db.read() as s:
            job = (await s.execute(select(Job).where(Job.key == key))).scalar_one()
            copies = (
                await s.execute(select(Message).where(Message.dialog_id == dialog_id, Message.body == text))
            ).all()
    finally:
        await db.dispose()
    return job, len(copies)


async def test_processes_started_together_set_up_the_installation_once(cluster):
    db = Database(cluster.database_url)
    try:
        async with db.read() as s:
            demo = await s.get(OpenLine, "demo")
            operators = (await s.execute(select(Operator))).scalars().all()
    finally:
        await db.dispose()
    assert demo is not None and set(demo.allowed_origins) == {cluster.a.url, cluster.b.url}
    assert [o.email for o in operators] == ["operator@demo.openline"]


def test_migrations_started_at_once_on_a_fresh_database_all_succeed(tmp_path):
    need_service("PostgreSQL", PG_HOST, PG_PORT)
    name = create_pg_database()
    env = {**os.environ, "DATABASE_URL": pg_url(name), "DATA_DIR": str(tmp_path), "SECRET_KEY": "x"}
    try:
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "widget_server", "migrate"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for _ in range(3)
        ]
        errors = [run.communicate(timeout=60)[1].decode() for run in runs]
        assert [(run.returncode, error[-500:]) for run, error in zip(runs, errors, strict=True)] == [(0, "")] * 3
    finally:
        drop_pg_database(name)


async def test_visitor_on_one_process_and_operator_on_another_talk_and_both_tabs_see_everything_in_order(cluster):
    a, b = cluster.a, cluster.b
    token = login(a)
    line = shared_line(cluster, token)
    operator = await OperatorClient.connect(b, token)
    tab_a = await Visitor.connect(a, line=line["id"])
    tab_b = await Visitor.connect(b, line=line["id"], token=tab_a.token)

    ack = await tab_a.say("Do you ship to Spain?")
    dialog_id = ack["dialog_id"]
    summary = (await operator.expect("dialog", where=lambda f: f["dialog"]["id"] == dialog_id))["dialog"]
    assert summary["line"]["id"] == line["id"]
    assert (await operator.expect("message", seq=ack["seq"]))["text"] == "Do you ship to Spain?"
    await operator.join(dialog_id)

    # A conversation going back and forth, written on both processes.
    last = 0
    for n in range(4):
        last = (await operator.say(dialog_id, f"answer {n}"))["seq"]
        last = (await tab_b.say(f"question {n}"))["seq"]
    for tab in (tab_a, tab_b):
        await tab.expect("message", seq=last, timeout=10)
    # Everything after the first message was published by B, so tab A has it all with the last one; tab B has all
    # A published (the first message) once A's `seen` has come.
    await tab_a.send({"type": "seen", "seq": last})
    await tab_b.expect("seen", seq=last, timeout=10)
    for tab in (tab_a, tab_b):
        await tab.remaining()  # and what each one's own process had queued: anything repeated is here now
        assert [f["seq"] for f in tab.seen if f["type"] == "message"] == list(range(1, last + 1))
    for client in (tab_a, tab_b, operator):
        await client.close()


async def test_an_admins_change_on_one_process_closes_the_operators_console_on_the_other(cluster):
    a, b = cluster.a, cluster.b
    admin = login(a)
    line = shared_line(cluster, admin)
    other = shared_line(cluster, admin)
    olga, token = make_operator(a, admin, [line["id"], other["id"]])
    console = await OperatorClient.connect(b, token)
    with api(a, admin) as client:
        assert client.patch(f"/api/operators/{olga['id']}", json={"line_ids": [other["id"]]}).status_code == 200
    with pytest.raises(ConnectionClosed):
        while True:
            await console.recv(timeout=10)
    assert console.ws.close_code == 4001
    again = await OperatorClient.connect(b, token)
    assert again.ready["line_ids"] == [other["id"]]
    await again.close()


async def test_a_visitor_resumes_on_the_other_process_and_misses_nothing(cluster):
    a, b = cluster.a, cluster.b
    token = login(a)
    line = shared_line(cluster, token)
    operator = await OperatorClient.connect(a, token)
    visitor = await Visitor.connect(a, line=line["id"])
    ack = await visitor.say("Hello")
    dialog_id = ack["dialog_id"]
    await operator.join(dialog_id)
    first = await operator.say(dialog_id, "Answer 1")
    await visitor.expect("message", seq=first["seq"])
    await visitor.close()

    missed = [await operator.say(dialog_id, f"Answer {n}") for n in (2, 3)]
    back = await Visitor.connect(
        b, line=line["id"], token=visitor.token, resume={"dialog_id": dialog_id, "last_seq": first["seq"]}
    )
    assert back.welcome["resumed"] is True
    assert [m["seq"] for m in back.welcome["messages"]] == [m["seq"] for m in missed]

    live = await operator.say(dialog_id, "Answer 4")  # written on A, heard on B
    assert (await back.expect("message", timeout=10))["seq"] == live["seq"]
    assert await back.remaining() == []  # A published the others before "Answer 4": they would be here
    await back.close()
    await operator.close()


async def test_dialog_numbers_stay_unique_when_both_processes_open_dialogs_at_once(cluster):
    token = login(cluster.a)
    line = shared_line(cluster, token)
    visitors = [
        await Visitor.connect(process, line=line["id"]) for process in (cluster.a, cluster.b) for _ in range(10)
    ]
    await asyncio.gather(*(v.open_chat() for v in visitors))
    numbers = [(await v.expect("dialog"))["dialog"]["number"] for v in visitors]
    assert len(set(numbers)) == 20
    assert max(numbers) - min(numbers) == 19  # sequential: no number skipped
    for v in visitors:
        await v.close()


async def test_a_timer_fires_once_while_both_processes_run(cluster):
    token = login(cluster.a)
    line = shared_line(cluster, token)
    tab_a = await Visitor.connect(cluster.a, line=line["id"])
    tab_b = await Visitor.connect(cluster.b, line=line["id"], token=tab_a.token)
    dialog_id = (await tab_a.open_chat())["dialog_id"]
    key = await schedule_say(cluster, dialog_id, "Still there?", after=30)

    cluster.clock.advance(29.9)
    await cluster.settle()
    job, copies = await job_and_copies(cluster, key, dialog_id, "Still there?")
    assert (job.status, job.attempts, copies) == ("pending", 0, 0)  # not yet, in either process
    cluster.clock.advance(0.1)
    for tab in (tab_a, tab_b):
        said = await tab.expect("message", text="Still there?", timeout=10)
        assert said["author"] == {"type": "bot", "name": "Test line"}
    await cluster.settle()  # both runners have looked again: nobody runs it again
    job, copies = await job_and_copies(cluster, key, dialog_id, "Still there?")
    assert (job.status, job.attempts, copies) == ("done", 1, 1)
    for tab in (tab_a, tab_b):
        await tab.close()


async def test_a_process_killed_mid_job_leaves_it_to_the_other_which_finishes_it_once(cluster, tmp_path):
    token = login(cluster.a)
    line = shared_line(cluster, token)
    tabs = {"a": await Visitor.connect(cluster.a, line=line["id"])}
    tabs["b"] = await Visitor.connect(cluster.b, line=line["id"], token=tabs["a"].token)
    dialog_id = (await tabs["a"].open_chat())["dialog_id"]
    hold = tmp_path / "hold"
    key = await schedule_say(cluster, dialog_id, "Your reminder", after=5, hold=hold)

    cluster.clock.advance(5)
    started = hold.with_name("hold.started")
    deadline = time.monotonic() + 10
    while not started.exists() or not started.read_text():
        assert time.monotonic() < deadline, "no process took the job"
        await asyncio.sleep(0.02)
    pid = int(started.read_text())
    victim, survivor = (cluster.a, cluster.b) if cluster.a.pid == pid else (cluster.b, cluster.a)
    assert victim.pid == pid
    try:
        victim.kill()  # in the middle of the job: its transaction never commits
        hold.with_name("hold.release").touch()
        watcher = tabs[survivor.name]
        await survivor.settle()
        job, copies = await job_and_copies(cluster, key, dialog_id, "Your reminder")
        assert (job.status, job.attempts, copies) == ("running", 1, 0)  # the lease still holds

        cluster.clock.advance(LEASE_SECONDS + 1)
        said = await watcher.expect("message", text="Your reminder", timeout=10)
        assert said["dialog_id"] == dialog_id
        await survivor.settle()  # the only process left: what it publishes reaches its tab before a pong
        assert reminders(await watcher.remaining()) == []
        job, copies = await job_and_copies(cluster, key, dialog_id, "Your reminder")
        assert (job.status, job.attempts, copies) == ("done", 2, 1)
        # Whoever opens the chat now sees the reminder once.
        again = await Visitor.connect(survivor, line=line["id"], token=tabs["a"].token)
        assert [m["text"] for m in again.welcome["messages"]].count("Your reminder") == 1
        await again.close()
    finally:
        for tab in tabs.values():
            await tab.close()
        victim.start()  # the module's other tests want both processes


@pytest.fixture
def own_redis_cluster(tmp_path: Path) -> Iterator[tuple[Cluster, RedisProcess]]:
    need_service("PostgreSQL", PG_HOST, PG_PORT)
    redis = RedisProcess(need_redis_server()).start()
    name = create_pg_database()
    try:
        cluster = start_cluster(tmp_path, pg_url(name), redis.url, "openline")
        try:
            yield cluster, redis
        finally:
            cluster.stop()
    finally:
        redis.kill()
        drop_pg_database(name)


async def test_a_conversation_loses_nothing_when_redis_restarts(own_redis_cluster):
    cluster, redis = own_redis_cluster
    token = login(cluster.a)
    line = shared_line(cluster, token)
    operator = await OperatorClient.connect(cluster.b, token)
    # Two visitors on A, their operator on B.
    asking, waiting = [await Visitor.connect(cluster.a, line=line["id"]) for _ in range(2)]
    dialogs = {}
    for visitor in (asking, waiting):
        ack = await visitor.say("Hello")
        dialogs[visitor] = ack["dialog_id"]
        await operator.expect("message", dialog_id=ack["dialog_id"], seq=ack["seq"], timeout=10)
        await operator.join(ack["dialog_id"])
    answer = await operator.say(dialogs[waiting], "Hi, how can I help?")
    await waiting.expect("message", seq=answer["seq"], timeout=10)
    for client in (asking, waiting, operator):
        await client.remaining()  # what came so far

    redis.kill()
    # Both sides write while Redis is gone: stored and acknowledged, but no doorbell rings across. No later
    # message follows in either dialog, so only the resync after the reconnect can bring these.
    asked = await asking.say("Are you there?")
    said = [await operator.say(dialogs[waiting], "Let me check"), await operator.say(dialogs[waiting], "Found it")]
    redis.start()

    got = await messages_until(waiting, said[-1]["seq"], dialogs[waiting])
    assert [(m["seq"], m["text"]) for m in got] == [(said[0]["seq"], "Let me check"), (said[1]["seq"], "Found it")]
    heard = await operator.expect("message", dialog_id=dialogs[asking], seq=asked["seq"], timeout=15)
    assert heard["text"] == "Are you there?"

    # The doorbell rings again, and nothing came twice.
    after = await operator.say(dialogs[asking], "Yes, here")
    assert (await asking.expect("message", seq=after["seq"], timeout=10))["text"] == "Yes, here"
    # B published "Yes, here" last, so A's visitors have all B sent; the operator has all A sent once A's `seen`.
    await asking.send({"type": "seen", "seq": after["seq"]})
    await operator.expect("seen", dialog_id=dialogs[asking], seq=after["seq"], timeout=10)
    await asking.remaining()
    await operator.remaining()
    for client, dialog_id in ((asking, dialogs[asking]), (waiting, dialogs[waiting]), (operator, dialogs[asking])):
        seqs = [f["seq"] for f in client.seen if f["type"] == "message" and f["dialog_id"] == dialog_id]
        assert len(seqs) == len(set(seqs)), seqs
    for client in (asking, waiting, operator):
        await client.close()
