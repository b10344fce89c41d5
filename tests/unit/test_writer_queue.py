"""SQLite's queue of writers: the chat's one-trip group commits go ahead of ORM sessions, which still move."""

from __future__ import annotations

import asyncio

from widget_server.storage.writer_queue import WriterQueue


async def _take_turns(queue: WriterQueue, arrivals: list[tuple[str, bool]]) -> list[str]:
    order: list[str] = []
    release = asyncio.Event()

    async def writer(name: str, quick: bool) -> None:
        async with queue.turn(quick):
            order.append(name)

    async def first() -> None:
        async with queue.turn(False):
            order.append("holder")
            await release.wait()

    holder = asyncio.create_task(first())
    await asyncio.sleep(0)
    tasks = []
    for name, quick in arrivals:
        tasks.append(asyncio.create_task(writer(name, quick)))
        await asyncio.sleep(0)
    release.set()
    await asyncio.gather(holder, *tasks)
    return order


async def test_group_commits_go_first_but_a_waiting_session_gets_a_turn_after_three():
    arrivals = [("s1", False), ("s2", False)] + [(f"q{i}", True) for i in range(1, 6)]
    order = await _take_turns(WriterQueue(), arrivals)
    assert order == ["holder", "q1", "q2", "q3", "s1", "q4", "q5", "s2"]


async def test_sessions_alone_keep_their_arrival_order():
    order = await _take_turns(WriterQueue(), [("a", False), ("b", False), ("c", False)])
    assert order == ["holder", "a", "b", "c"]


async def test_a_writer_that_gives_up_waiting_does_not_hold_up_the_others():
    queue = WriterQueue()
    order: list[str] = []
    release = asyncio.Event()

    async def holder() -> None:
        async with queue.turn(False):
            await release.wait()

    async def writer(name: str) -> None:
        async with queue.turn(True):
            order.append(name)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    quitter = asyncio.create_task(writer("quitter"))
    patient = asyncio.create_task(writer("patient"))
    await asyncio.sleep(0)
    quitter.cancel()
    release.set()
    await asyncio.gather(first, patient)
    assert order == ["patient"]
    async with asyncio.timeout(1):  # and the queue is free again
        async with queue.turn(False):
            pass
