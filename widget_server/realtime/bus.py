"""Publish/subscribe between the code that changes things and the connections that must hear of it.

The bus is only a doorbell: the database holds the truth, and a connection that misses an event (a Redis
blip, a reconnect) catches up from the database by `seq`. The in-process backend is the default; a Redis
backend is chosen by `REDIS_URL` when several processes share one installation.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable

from widget_server.services.events import Event

Callback = Callable[[Event], None]
Unsubscribe = Callable[[], None]

log = logging.getLogger(__name__)


class Bus(ABC):
    @abstractmethod
    def publish(self, topic: str, event: Event) -> None: ...

    @abstractmethod
    def subscribe(self, topic: str, callback: Callback) -> Unsubscribe: ...

    async def start(self) -> None:  # noqa: B027 - backends without a connection have nothing to do
        pass

    async def stop(self) -> None:  # noqa: B027
        pass


class MemoryBus(Bus):
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Callback]] = {}

    def publish(self, topic: str, event: Event) -> None:
        # Copy: a callback may unsubscribe (a connection closing) while we iterate.
        for callback in tuple(self._subscribers.get(topic, ())):
            try:
                callback(event)
            except Exception:
                log.exception("subscriber of %s failed", topic)

    def subscribe(self, topic: str, callback: Callback) -> Unsubscribe:
        self._subscribers.setdefault(topic, set()).add(callback)

        def unsubscribe() -> None:
            subscribers = self._subscribers.get(topic)
            if subscribers is not None:
                subscribers.discard(callback)
                if not subscribers:
                    del self._subscribers[topic]

        return unsubscribe

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))


def make_bus(redis_url: str | None) -> Bus:
    if redis_url:
        from widget_server.realtime.redis_bus import RedisBus

        return RedisBus(redis_url)
    return MemoryBus()
