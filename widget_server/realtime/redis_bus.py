"""The bus over Redis pub/sub, for several processes sharing one installation (`REDIS_URL`).

How an event travels. `publish` is synchronous (services call it right after their commit): it hands the event
to this process's subscribers at once, then puts it in an outbox that one publisher task sends to Redis, in
order, pipelined when several are waiting. The payload is a one-line header, `<node> <dialog_id|-> <seq|->`, a
newline, then the frame exactly as the clients get it; `node` names this process, so the echo of our own events
that Redis sends back is ignored (local subscribers had them already).

Channels. A topic `T` is the channel `<prefix>:T` (`REDIS_PREFIX`, default `openline`); Redis pub/sub ignores
database numbers, so installations sharing one Redis must differ in prefix. The process subscribes to a channel
when its topic gets its first local subscriber and unsubscribes when the last one leaves, on one dedicated
connection. `listening(topic)` waits for Redis to confirm the subscription, so a connection that subscribes,
awaits it, then reads the database cannot miss an event committed after its read.

Redis lost and back. The database is the truth and the bus only a doorbell, so a lost event is never resent:
the subscribers are told to re-read instead (`on_resync`; a connection re-reads every dialog it shows past the
last `seq` it delivered, see `web/visitor_ws.py` and `web/operator_ws.py`).
- The subscription connection drops: the listener reconnects with backoff (50 ms doubling to 2 s, jittered),
  subscribes to every topic that has local subscribers again, and as Redis confirms each one, resyncs that
  topic's local subscribers. Re-reading after the confirmation leaves no window in which an event is missed.
- Publishing fails (or the outbox overflows because Redis is too slow): the events not sent are dropped, and so
  are new ones until Redis answers again; those events are committed, so nothing is lost. Once a publish
  succeeds again, a resync notice goes out on `<prefix>!resync` first: every other process resyncs all its
  subscribers. Events published after the notice queue up behind it, so none falls between the notice and
  the re-read.
- A connection that Redis silently stops answering is noticed by a PING every 5 s without a reply for 15 s.
Every resync reaches a connection even when no later event comes, which is what a DeliveryTracker alone could
not do (it fills gaps only when a later event shows one). A connection coalesces repeated notices.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections import Counter, deque
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from widget_server.realtime.bus import MemoryBus
from widget_server.realtime.events import Event

log = logging.getLogger(__name__)

BATCH = 256


def encode(node: str, event: Event) -> bytes:
    dialog = "-" if event.dialog_id is None else str(event.dialog_id)
    seq = "-" if event.seq is None else str(event.seq)
    return f"{node} {dialog} {seq}\n{event.frame}".encode()


def decode(data: bytes) -> tuple[str, Event]:
    """The sending node and the event; ValueError when `data` is not one of ours."""
    head, newline, frame = data.partition(b"\n")
    node, dialog, seq = head.decode().split(" ")
    if not newline or not node:
        raise ValueError("no header")
    return node, Event(frame.decode(), None if dialog == "-" else int(dialog), None if seq == "-" else int(seq))


class Backoff:
    def __init__(self, first: float = 0.05, cap: float = 2.0) -> None:
        self.first, self.cap = first, cap
        self._next = first

    def delay(self) -> float:
        delay, self._next = self._next, min(self.cap, self._next * 2)
        return delay * random.uniform(0.5, 1.0)  # jitter: processes do not reconnect in lockstep

    def reset(self) -> None:
        self._next = self.first


class RedisBus(MemoryBus):
    def __init__(
        self,
        url: str,
        prefix: str = "openline",
        node: str | None = None,
        outbox_max: int = 10_000,
        heartbeat: float = 5.0,
        listen_timeout: float = 2.0,
        backoff_cap: float = 2.0,
        start_timeout: float = 5.0,
    ) -> None:
        super().__init__()
        self.url = url
        self.node = node or secrets.token_hex(6)
        self._prefix = f"{prefix}:"
        self._resync_channel = f"{prefix}!resync"
        self._outbox_max = outbox_max
        self._heartbeat = heartbeat
        self._listen_timeout = listen_timeout
        self._backoff_cap = backoff_cap
        self._start_timeout = start_timeout
        self._first_connect = asyncio.Event()
        self._redis: Redis | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # Publishing.
        self._outbox: deque[tuple[str, bytes]] = deque()
        self._outbox_ready = asyncio.Event()
        self._missed = False  # events were dropped; the others must re-read once Redis answers
        # Listening: what we asked Redis for, how many answers are outstanding per topic, what is confirmed.
        self.connected = False
        self._requested: set[str] = set()
        self._pending: Counter[str] = Counter()
        self._live: set[str] = set()
        self._resync_when_live: set[str] = set()
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._changed = asyncio.Event()
        self._last_pong = 0.0

    # -- the Bus interface ------------------------------------------------------------------------

    def publish(self, topic: str, event: Event) -> None:
        self.deliver(topic, event)
        if not self._tasks or self._missed:
            return  # not started, or Redis is out of reach: a resync notice will cover this event
        if len(self._outbox) >= self._outbox_max:
            log.warning("redis bus: %d events wait for Redis; dropping them, others will re-read", len(self._outbox))
            self._drop_outbox()
            return
        self._outbox.append((self._prefix + topic, encode(self.node, event)))
        self._outbox_ready.set()

    def _first_subscriber(self, topic: str) -> None:
        self._changed.set()

    def _last_subscriber_gone(self, topic: str) -> None:
        self._resync_when_live.discard(topic)
        self._changed.set()

    async def listening(self, topic: str) -> None:
        if topic in self._live or topic not in self.topics():
            return
        if not self.connected:
            self._resync_when_live.add(topic)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._waiters.setdefault(topic, [])
        waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, self._listen_timeout)
        except TimeoutError:
            pass
        finally:
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters and self._waiters.get(topic) is waiters:
                del self._waiters[topic]
        if topic not in self._live and topic in self.topics():
            # Not confirmed in time (or the connection dropped): the subscriber re-reads once it is.
            self._resync_when_live.add(topic)

    async def start(self) -> None:
        # No retries inside redis-py: a silent reconnect would re-subscribe behind our back and hide the loss
        # that must trigger a resync. We reconnect ourselves.
        self._redis = Redis.from_url(
            self.url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=2, socket_timeout=5, socket_keepalive=True
        )
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._publish_forever(), name="redis-bus-publisher"),
            loop.create_task(self._listen_forever(), name="redis-bus-listener"),
        ]
        # Serve only once we listen, if Redis lets us: connections made before would all need a resync. Redis
        # being down does not stop the start; the listener keeps trying and resyncs then.
        try:
            await asyncio.wait_for(self._first_connect.wait(), self._start_timeout)
        except TimeoutError:
            log.warning("redis bus: Redis at %s does not answer yet; serving, and will keep trying", self._safe_url())

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._redis is not None:
            # Bounded: closing a socket Redis no longer answers on must not hold up the shutdown.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await self._redis.aclose()
            self._redis = None

    def _safe_url(self) -> str:
        # Never log a password that the URL may carry.
        scheme, _, rest = self.url.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}"

    # -- publishing -------------------------------------------------------------------------------

    def _drop_outbox(self) -> None:
        self._missed = True
        self._outbox.clear()

    async def _publish_forever(self) -> None:
        assert self._redis is not None
        backoff = Backoff(cap=self._backoff_cap)
        while True:
            if self._missed:
                await asyncio.sleep(backoff.delay())
                self._missed = False  # from here on, events queue up behind the notice
                try:
                    await self._redis.publish(self._resync_channel, self.node)
                except (RedisError, OSError):
                    self._drop_outbox()
                    continue
                log.warning("redis bus: publishing again; the other processes re-read what they missed")
                backoff.reset()
                continue
            if not self._outbox:
                self._outbox_ready.clear()
                await self._outbox_ready.wait()
                continue
            batch = [self._outbox.popleft() for _ in range(min(BATCH, len(self._outbox)))]
            try:
                if len(batch) == 1:
                    await self._redis.publish(*batch[0])
                else:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for channel, payload in batch:
                            pipe.publish(channel, payload)
                        await pipe.execute()
            except (RedisError, OSError) as exc:
                log.warning("redis bus: cannot publish (%r); the other processes will re-read once it is back", exc)
                self._drop_outbox()

    # -- listening --------------------------------------------------------------------------------

    async def _listen_forever(self) -> None:
        backoff = Backoff(cap=self._backoff_cap)
        while True:
            try:
                await self._listen_once(backoff)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self.connected:
                    log.warning("redis bus: lost the subscription connection (%r); reconnecting", exc)
            except Exception:
                log.exception("redis bus: listener failed; reconnecting")
            finally:
                self._session_over()
            await asyncio.sleep(backoff.delay())

    async def _listen_once(self, backoff: Backoff) -> None:
        assert self._redis is not None
        pubsub = self._redis.pubsub()
        try:
            topics = self.topics()
            self._requested = set(topics)
            self._pending = Counter(dict.fromkeys(topics, 1))
            # Whatever was published while we were not listening must be re-read once we are again.
            self._resync_when_live = set(topics)
            await pubsub.subscribe(self._resync_channel, *(self._prefix + t for t in topics))
            if not self.connected:
                log.info("redis bus: listening (node %s)", self.node)
            self.connected = True
            self._first_connect.set()
            backoff.reset()
            self._last_pong = asyncio.get_running_loop().time()
            self._changed.set()  # topics that came or went during the subscribe
            tasks = {
                asyncio.create_task(self._read(pubsub), name="redis-bus-reader"),
                asyncio.create_task(self._command(pubsub), name="redis-bus-commands"),
            }
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            for task in done:
                task.result()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    def _session_over(self) -> None:
        self.connected = False
        self._requested.clear()
        self._pending.clear()
        self._live.clear()
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def _command(self, pubsub: PubSub) -> None:
        """The only writer on the subscription connection: (un)subscribe as topics come and go, and PING."""
        loop = asyncio.get_running_loop()
        last_ping = loop.time()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self._heartbeat)
            self._changed.clear()
            wanted = self.topics()
            added, gone = wanted - self._requested, self._requested - wanted
            for topic in added | gone:
                self._pending[topic] += 1
                self._live.discard(topic)
            self._requested = (self._requested | added) - gone
            self._resync_when_live -= gone
            if added:
                await pubsub.subscribe(*(self._prefix + t for t in added))
            if gone:
                await pubsub.unsubscribe(*(self._prefix + t for t in gone))
            now = loop.time()
            if now - self._last_pong > 3 * self._heartbeat:
                raise ConnectionError("Redis does not answer PING")
            if now - last_ping >= self._heartbeat:
                await pubsub.ping()
                last_ping = now

    async def _read(self, pubsub: PubSub) -> None:
        loop = asyncio.get_running_loop()
        while True:
            message: dict[str, Any] | None = await pubsub.get_message(timeout=None)
            if message is None:
                continue
            kind = message["type"]
            if kind == "message":
                self._on_message(message["channel"], message["data"])
            elif kind in ("subscribe", "unsubscribe"):
                self._on_confirmed(message["channel"])
            elif kind == "pong":
                self._last_pong = loop.time()

    def _on_message(self, channel: bytes, data: bytes) -> None:
        name = channel.decode()
        if name == self._resync_channel:
            if data.decode() != self.node:
                log.info("redis bus: another process missed events; re-reading")
                self.resync()
            return
        try:
            node, event = decode(data)
        except (ValueError, UnicodeDecodeError):
            log.warning("redis bus: ignoring a malformed message on %s", name)
            return
        if node != self.node:
            self.deliver(name.removeprefix(self._prefix), event)

    def _on_confirmed(self, channel: bytes) -> None:
        name = channel.decode()
        if name == self._resync_channel:
            return
        topic = name.removeprefix(self._prefix)
        self._pending[topic] -= 1
        if self._pending[topic] > 0:
            return  # a later (un)subscribe of this topic is still unanswered
        del self._pending[topic]
        if topic not in self._requested:
            return
        self._live.add(topic)
        for waiter in self._waiters.pop(topic, []):
            if not waiter.done():
                waiter.set_result(None)
        if topic in self._resync_when_live:
            self._resync_when_live.discard(topic)
            self.resync([topic])
