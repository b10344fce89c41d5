"""The coalescer: calls that arrive during one trip go together in the next, and each caller hears its own answer."""

from __future__ import annotations

import asyncio
import gc

from widget_server.storage.coalescer import Coalescer, Periodic


class Trips:
    """A batch function that records its batches; a trip can be held open to let items pile up behind it."""

    def __init__(self, bad: frozenset[int] = frozenset()) -> None:
        self.batches: list[list[int]] = []
        self.bad = bad
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    def hold(self) -> None:
        self.gate = asyncio.Event()

    async def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        self.entered.set()
        if self.gate is not None:
            gate, self.gate = self.gate, None
            await gate.wait()
        if self.bad.intersection(items):
            raise ValueError(f"bad item in {items}")
        return [item * 10 for item in items]


async def _held_first_trip(trips: Trips, coalescer: Coalescer[int, int]) -> tuple[asyncio.Event, asyncio.Future[int]]:
    trips.hold()
    gate = trips.gate
    assert gate is not None
    first = coalescer.submit(1)
    await trips.entered.wait()
    return gate, first


async def test_items_that_arrive_during_a_trip_go_together_in_the_next_and_each_caller_gets_its_own_result():
    trips = Trips()
    coalescer = Coalescer(trips, name="test")
    gate, first = await _held_first_trip(trips, coalescer)
    later = [coalescer.submit(n) for n in (2, 3, 4)]
    gate.set()
    assert await asyncio.gather(first, *later) == [10, 20, 30, 40]
    assert trips.batches == [[1], [2, 3, 4]]


async def test_the_items_of_one_turn_of_the_loop_start_one_round():
    trips = Trips()
    coalescer = Coalescer(trips, name="test")
    assert await asyncio.gather(*(coalescer.submit(n) for n in (1, 2, 3))) == [10, 20, 30]
    assert trips.batches == [[1, 2, 3]]


async def test_a_batch_is_never_larger_than_max_batch():
    trips = Trips()
    coalescer = Coalescer(trips, name="test", max_batch=2)
    assert await asyncio.gather(*(coalescer.submit(n) for n in range(5))) == [0, 10, 20, 30, 40]
    assert trips.batches == [[0, 1], [2, 3], [4]]


async def test_a_bad_item_fails_only_its_own_caller():
    trips = Trips(bad=frozenset({2}))
    coalescer = Coalescer(trips, name="test")
    answers = await asyncio.gather(*(coalescer.submit(n) for n in (1, 2, 3)), return_exceptions=True)
    assert answers[0] == 10 and answers[2] == 30
    assert isinstance(answers[1], ValueError)
    assert trips.batches == [[1, 2, 3], [1], [2], [3]]


async def test_a_caller_that_gave_up_is_left_out_of_the_next_trip():
    trips = Trips()
    coalescer = Coalescer(trips, name="test")
    gate, first = await _held_first_trip(trips, coalescer)
    quitter, patient = coalescer.submit(2), coalescer.submit(3)
    quitter.cancel()
    gate.set()
    assert await asyncio.gather(first, patient) == [10, 30]
    assert trips.batches == [[1], [3]]


async def test_a_caller_that_gives_up_during_the_trip_leaves_the_others_answered():
    trips = Trips()
    coalescer = Coalescer(trips, name="test")
    trips.hold()
    gate = trips.gate
    assert gate is not None
    quitter, patient = coalescer.submit(1), coalescer.submit(2)
    await trips.entered.wait()
    quitter.cancel()
    gate.set()
    assert await patient == 20
    assert quitter.cancelled()


async def test_a_batch_function_that_miscounts_fails_every_caller_and_is_not_retried():
    batches: list[list[int]] = []

    async def short(items: list[int]) -> list[int]:
        batches.append(items)
        return items[:-1]

    coalescer = Coalescer(short, name="test")
    answers = await asyncio.gather(*(coalescer.submit(n) for n in (1, 2)), return_exceptions=True)
    assert all(isinstance(answer, RuntimeError) for answer in answers)
    assert batches == [[1, 2]]  # the trip may have written them: once only


async def test_close_waits_for_every_queued_item():
    trips = Trips()
    coalescer = Coalescer(trips, name="test")
    gate, first = await _held_first_trip(trips, coalescer)
    later = [coalescer.submit(n) for n in (2, 3)]
    closing = asyncio.create_task(coalescer.close())
    gate.set()
    await closing
    assert [f.result() for f in (first, *later)] == [10, 20, 30]


async def test_close_without_draining_cancels_the_callers_still_waiting():
    trips = Trips()
    coalescer = Coalescer(trips, name="test")
    _gate, first = await _held_first_trip(trips, coalescer)  # never opened
    waiting = coalescer.submit(2)
    await coalescer.close(drain=False)
    assert first.cancelled() and waiting.cancelled()
    assert await coalescer.submit(3) == 30  # and it starts again when asked


def test_a_server_restarted_on_a_new_loop_gets_rounds_on_that_loop():
    trips = Trips()
    coalescer = Coalescer(trips, name="test")

    async def first_server() -> None:
        trips.hold()  # its trip never ends: the loop closes under it
        coalescer.submit(1)
        await trips.entered.wait()

    async def second_server() -> int:
        return await coalescer.submit(2)

    asyncio.run(first_server())
    assert asyncio.run(second_server()) == 20
    assert trips.batches == [[1], [2]]


async def test_an_error_nobody_awaits_is_not_reported_as_unretrieved():
    trips = Trips(bad=frozenset({1}))
    coalescer = Coalescer(trips, name="test")
    reported: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, context: reported.append(context))
    coalescer.submit(1)  # fire and forget, as a hello's "last seen"
    await coalescer.close()
    assert trips.batches == [[1]]
    gc.collect()  # a future whose exception was never retrieved reports it when collected
    assert reported == []


async def test_periodic_runs_every_period_and_a_failed_round_does_not_stop_it():
    rounds: list[int] = []
    three = asyncio.Event()

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise OSError("database blip")
        if len(rounds) == 3:
            three.set()

    periodic = Periodic(work, name="test-periodic")
    periodic.start(0.001)
    periodic.start(0.001)  # started twice (an app's lifespan run again): still one task
    assert sum(task.get_name() == "test-periodic" for task in asyncio.all_tasks()) == 1
    async with asyncio.timeout(5):
        await three.wait()
    await periodic.close()
    assert not any(task.get_name() == "test-periodic" for task in asyncio.all_tasks())


async def test_closing_one_that_never_ran_is_harmless():
    coalescer: Coalescer[int, int] = Coalescer(Trips(), name="test")
    await coalescer.close()
    assert await coalescer.submit(1) == 10
