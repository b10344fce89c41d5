"""Publish/subscribe between the code that changes things and the connections that must hear of it.

The bus is only a doorbell: the database holds the truth, and a connection that misses an event (a Redis
blip, a reconnect) catches up from the database by `seq`. The in-process backend is the default; a Redis
backend (`realtime/redis_bus.py`) is chosen by `REDIS_URL` when several processes share one installation.

A subscriber gives two callbacks: one for each event, and `on_resync` for the moment the bus knows it may have
missed events on the topic (the Redis connection was lost and is back). The subscriber then re-reads from the
database what it shows. The in-process bus never loses an event, so it never calls `on_resync`.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from widget_server.realtime.events import Event

Callback = Callable[[Event], None]
ResyncCallback = Callable[[], None]
Unsubscribe = Callable[[], None]

log = logging.getLogger(__name__)


@dataclass(eq=False, slots=True)
class Subscriber:
    callback: Callback
    on_resync: ResyncCallback | None = None


class Bus(ABC):
    @abstractmethod
    def publish(self, topic: str, event: Event) -> None:
        """Deliver `event` to every subscriber of `topic`, in this process and others. Never blocks."""

    @abstractmethod
    def subscribe(self, topic: str, callback: Callback, on_resync: ResyncCallback | None = None) -> Unsubscribe: ...

    async def listening(self, topic: str) -> None:  # noqa: B027 - nothing to wait for in one process
        """Return once events published anywhere on `topic` reach this process's subscribers.

        Subscribe, await this, then read the database: nothing committed after the read can be missed. When the
        bus cannot promise that now (Redis is down), it returns at once and calls `on_resync` later instead.
        """

    async def start(self) -> None:  # noqa: B027 - backends without a connection have nothing to do
        pass

    async def stop(self) -> None:  # noqa: B027
        pass


class MemoryBus(Bus):
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscriber]] = {}

    def publish(self, topic: str, event: Event) -> None:
        self.deliver(topic, event)

    def deliver(self, topic: str, event: Event) -> None:
        """Hand `event` to this process's subscribers of `topic`."""
        # Copy: a callback may unsubscribe (a connection closing) while we iterate.
        for subscriber in tuple(self._subscribers.get(topic, ())):
            try:
                subscriber.callback(event)
            except Exception:
                log.exception("subscriber of %s failed", topic)

    def resync(self, topics: list[str] | None = None) -> None:
        """Tell this process's subscribers of `topics` (None: of every topic) to re-read what they show."""
        for topic in list(self._subscribers) if topics is None else topics:
            for subscriber in tuple(self._subscribers.get(topic, ())):
                if subscriber.on_resync is None:
                    continue
                try:
                    subscriber.on_resync()
                except Exception:
                    log.exception("resync of a subscriber of %s failed", topic)

    def subscribe(self, topic: str, callback: Callback, on_resync: ResyncCallback | None = None) -> Unsubscribe:
        subscriber = Subscriber(callback, on_resync)
        subscribers = self._subscribers.setdefault(topic, set())
        subscribers.add(subscriber)
        if len(subscribers) == 1:
            self._first_subscriber(topic)

        def unsubscribe() -> None:
            subscribers = self._subscribers.get(topic)
            if subscribers is not None and subscriber in subscribers:
                subscribers.discard(subscriber)
                if not subscribers:
                    del self._subscribers[topic]
                    self._last_subscriber_gone(topic)

        return unsubscribe

    def _first_subscriber(self, topic: str) -> None:
        """Hook for backends that must start listening elsewhere for `topic`."""

    def _last_subscriber_gone(self, topic: str) -> None:
        """Hook for backends that may stop listening for `topic`."""

    def topics(self) -> set[str]:
        return set(self._subscribers)

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))
