"""The Redis bus against a real Redis: two buses stand for two processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from redis.asyncio import Redis

from tests.support.processes import RedisProcess, need_redis_server
from tests.support.services import REDIS_HOST, REDIS_PORT, need_service, redis_settings
from widget_server.realtime.events import Event
from widget_server.realtime.redis_bus import RedisBus, decode, encode

WAIT = 10.0


class Inbox:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.resyncs = 0
        self._changed = asyncio.Event()

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    def on_resync(self) -> None:
        self.resyncs += 1
        self._changed.set()

    async def until(self, condition) -> None:  # type: ignore[no-untyped-def]
        async with asyncio.timeout(WAIT):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll state that no event announces (Redis's own counters, the bus's connection)."""
    for _ in range(int(WAIT / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting until {what}")


@pytest.fixture
async def shared() -> AsyncIterator[tuple[str, str]]:
    need_service("Redis", REDIS_HOST, REDIS_PORT)
    settings = redis_settings()
    yield str(settings["redis_url"]), str(settings["redis_prefix"])


async def _equals(value: Awaitable[object], expected: object) -> bool:
    return await value == expected


async def started(url: str, prefix: str, **options: int) -> RedisBus:
    bus = RedisBus(url, prefix=prefix, **options)
    await bus.start()
    return bus


def test_the_redis_payload_carries_the_frame_with_its_dialog_and_seq():
    event = Event('{"type":"message","text":"a\\nb"}', 17, 4)
    assert decode(encode("n1", event)) == ("n1", event)
    assert decode(encode("n1", Event('{"type":"typing"}'))) == ("n1", Event('{"type":"typing"}'))
    assert encode("n1", event).startswith(b"n1 17 4\n")
    with pytest.raises(ValueError):
        decode(b"not ours")


async def test_an_event_published_in_one_process_reaches_the_other_once_and_not_back(shared):
    one, two = await started(*shared), await started(*shared)
    try:
        here, there = Inbox(), Inbox()
        one.subscribe("line:x", here.on_event)
        two.subscribe("line:x", there.on_event)
        await asyncio.gather(one.listening("line:x"), two.listening("line:x"))
        event = Event('{"type":"message"}', 7, 3)
        one.publish("line:x", event)
        assert here.events == [event]  # local subscribers hear it at once, before any I/O
        await there.until(lambda: there.events)
        assert there.events == [event]
        # Redis sent our echo to us before anything published after it: once the other's event is here, the echo
        # has been read too, and ignored.
        after = Event('{"type":"typing"}')
        two.publish("line:x", after)
        await here.until(lambda: len(here.events) > 1)
        assert here.events == [event, after]
    finally:
        await one.stop()
        await two.stop()


async def test_a_process_listens_on_redis_only_to_topics_it_has_subscribers_for(shared):
    url, prefix = shared
    bus = await started(url, prefix)
    probe = Redis.from_url(url)
    channel = f"{prefix}:visitor:1:x"

    async def listeners() -> int:
        return int(dict(await probe.pubsub_numsub(channel))[channel.encode()])

    try:
        first = bus.subscribe("visitor:1:x", Inbox().on_event)
        second = bus.subscribe("visitor:1:x", Inbox().on_event)
        await bus.listening("visitor:1:x")
        assert await listeners() == 1  # one Redis subscription, however many local subscribers
        first()
        # A barrier rather than a wait: the bus sends its Redis commands in order, so once a later subscription is
        # listening, an unsubscription the first call had caused would have reached Redis before it.
        barrier = bus.subscribe("visitor:2:x", Inbox().on_event)
        await bus.listening("visitor:2:x")
        assert await listeners() == 1
        barrier()
        second()
        await eventually(lambda: _equals(listeners(), 0), "Redis has no subscriber left")
    finally:
        await bus.stop()
        await probe.aclose()


async def test_a_process_that_had_to_drop_events_makes_the_others_reread(shared):
    # An outbox of one: the second event published before the first is sent overflows it, as when Redis is slow.
    one, two = await started(*shared, outbox_max=1), await started(*shared)
    try:
        here, there = Inbox(), Inbox()
        one.subscribe("line:y", here.on_event, here.on_resync)
        two.subscribe("line:y", there.on_event, there.on_resync)
        await asyncio.gather(one.listening("line:y"), two.listening("line:y"))
        one.publish("line:y", Event('{"n":1}', 1, 1))
        one.publish("line:y", Event('{"n":2}', 1, 2))
        await there.until(lambda: there.resyncs == 1)
        assert len(here.events) == 2 and here.resyncs == 0  # this process missed nothing
        one.publish("line:y", Event('{"n":3}', 1, 3))  # and afterwards the bus carries events again
        await there.until(lambda: any(e.seq == 3 for e in there.events))
    finally:
        await one.stop()
        await two.stop()


async def test_subscribers_are_told_to_reread_when_redis_comes_back_even_if_nothing_is_published():
    redis = RedisProcess(need_redis_server()).start()
    bus = await started(redis.url, "openline")
    try:
        inbox = Inbox()
        bus.subscribe("line:z", inbox.on_event, inbox.on_resync)
        await bus.listening("line:z")
        assert bus.connected and inbox.resyncs == 0
        redis.kill()
        await eventually(lambda: _equals(asyncio.sleep(0, bus.connected), False), "the bus notices")
        redis.start()
        await inbox.until(lambda: inbox.resyncs == 1)
        # Re-subscribed: events from another process flow again.
        other = await started(redis.url, "openline")
        try:
            other.publish("line:z", Event('{"after":true}'))
            await inbox.until(lambda: inbox.events)
        finally:
            await other.stop()
    finally:
        await bus.stop()
        redis.kill()
