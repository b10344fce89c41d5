"""uvicorn's sans-I/O WebSocket protocol, with a way to write a frame that was encoded once for every client.

Through ASGI, each frame to each client is a trip down the middleware's `send` wrappers into the protocol, which
frames the text again for that one client. A server's frames are not masked, so a message's frame is the same
bytes for every client: the bus encodes it once (`Event.wire`) and a connection with nothing queued before it
writes those bytes straight to its socket, in the publisher's turn, as `websockets.broadcast()` does.

The protocol offers that writer in the ASGI scope (`scope["extensions"]["openline.wire"]`); it refuses (returns
False) whenever the plain path must be taken: the connection is not open, a close was sent, an extension such as
per-message compression must transform frames, or the socket's buffer is full and the sender must wait for it.

It also keeps less per connection than its parent, for a chat server is mostly idle connections: an asyncio
`Queue` or `Event` holds a `deque` (about 600 bytes) from birth, and the parent's inbound queue and write flag
held five; ours make their one future when someone waits.

The parent, `WebSocketsSansIOProtocol`, is uvicorn's private class, so pyproject.toml pins uvicorn to the
releases we checked (`>=0.52.1,<0.56`) and tests/unit/test_ws_protocol_contract.py states what we rely on: the
names and signatures we override or call, that the parent uses its queue and write flag only as `_Inbox` and
`_Flag` allow, that keepalive goes through the methods we override, and a real server's behaviour. Below 0.52.1
there is no write flow control (no `pause_writing`, no `disconnected`): `write_wire` would write into a full
buffer, or fail. To move the pin, run that test on the new release. We keep the subclass rather than an ASGI-only
server because the frames written once for every client, the ping wheel and the outbox are what the benchmark's
fan-out, storm and idle figures stand on (bench/notes.md); through ASGI `send` each frame is framed again per
client, in a trip down the middleware.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

WIRE_EXTENSION = "openline.wire"
T = TypeVar("T")


def text_frame(payload: bytes) -> bytes:
    """A complete, unmasked text frame carrying `payload` (UTF-8): what a server sends."""
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


class _Inbox:
    """The part of `asyncio.Queue` uvicorn uses for inbound events, with one reader (the app)."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class _Flag:
    """The part of `asyncio.Event` uvicorn uses for "the socket is writable"."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        if self._set:
            return
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        await waiter


class _PingWheel:
    """The keepalive pings of every connection on one event loop, sent by one task that wakes 20 times a second.

    uvicorn gives each connection a timer (`call_later`) for its next ping: about 600 bytes per idle connection
    and an entry in the loop's heap. Here a connection waits in the set of the tick its ping is due in. Ticks are
    short because a tick's pings are written in one go, and their pongs come back together: with 15,000 sockets
    pinged every 20 s, a one-second tick wrote 750 pings at once and held the loop for several milliseconds,
    which every message arriving meanwhile waited for.
    """

    TICK = 0.05  # seconds

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._due: dict[int, set[WireProtocol]] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, protocol: WireProtocol, delay: float) -> int:
        tick = math.ceil((self._loop.time() + delay) / self.TICK)
        self._due.setdefault(tick, set()).add(protocol)
        if self._task is None or self._task.done():
            self._task = self._loop.create_task(self._run(), name="websocket-keepalive")
        return tick

    def discard(self, protocol: WireProtocol, tick: int) -> None:
        waiting = self._due.get(tick)
        if waiting is not None:
            waiting.discard(protocol)
            if not waiting:
                del self._due[tick]

    async def _run(self) -> None:
        while self._due:
            await asyncio.sleep(self.TICK)
            now = self._loop.time() / self.TICK
            for tick in [t for t in self._due if t <= now]:
                for protocol in self._due.pop(tick):
                    protocol.ping_due()


class _Outbox:
    """The frames `write_wire` took during one turn of the loop, written per socket in one go when it ends.

    A message puts two frames on its sender's socket in the same turn: the message itself (on the sender's own
    topic, which their other tabs follow) and its acknowledgement. Each `write` on a socket is a system call that,
    over loopback or a proxy's connection, runs the receiving side's network stack too: the largest single cost
    of the event loop at 1,000-2,000 messages a second (34 µs a write on the benchmark host, bench/notes.md).
    Written together, a message costs its sender's socket one. One outbox per loop, not a buffer per connection:
    idle connections are most of them.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._frames: dict[WireProtocol, list[bytes]] = {}

    def add(self, protocol: WireProtocol, wire: bytes) -> None:
        frames = self._frames.get(protocol)
        if frames is not None:
            frames.append(wire)
            return
        if not self._frames:
            self._loop.call_soon(self.flush)
        self._frames[protocol] = [wire]

    def flush(self) -> None:
        frames, self._frames = self._frames, {}
        for protocol, wires in frames.items():
            protocol.write_now(wires)

    def flush_one(self, protocol: WireProtocol) -> None:
        wires = self._frames.pop(protocol, None)
        if wires is not None:
            protocol.write_now(wires)


class _PerLoop(Generic[T]):
    """One `make(loop)` per event loop (a test server restarted in a new thread gets a new loop)."""

    def __init__(self, make: Callable[[asyncio.AbstractEventLoop], T]) -> None:
        self._make = make
        self._made: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def __call__(self, loop: asyncio.AbstractEventLoop) -> T:
        made = self._made.get(loop)
        if made is None:
            made = self._made[loop] = self._make(loop)
        return made


_wheel = _PerLoop(_PingWheel)
_outbox = _PerLoop(_Outbox)


class WireProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue: Any = _Inbox()
        self.writable: Any = _Flag()
        self._ping_tick: int | None = None  # the tick of the ping wheel this connection waits in

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # absent when the handshake was refused
        if scope is not None:
            scope["extensions"][WIRE_EXTENSION] = self.write_wire

    def start_keepalive(self) -> None:
        # Called once the handshake's response is sent. Nothing reads the response again, nor the request's
        # headers (the ASGI scope has its own copy); the parser's generator keeps the request for the connection's
        # life, so its headers are emptied in place.
        self.response = None  # type: ignore[assignment]
        self.request.headers.clear()
        super().start_keepalive()

    def schedule_ping(self) -> None:
        assert self.ping_interval is not None
        self._ping_tick = _wheel(self.loop).add(self, max(0.0, self.ping_interval - self.last_ping_rtt))

    def ping_due(self) -> None:
        self._ping_tick = None
        self.send_keepalive_ping()

    def stop_keepalive(self) -> None:
        if self._ping_tick is not None:
            _wheel(self.loop).discard(self, self._ping_tick)
            self._ping_tick = None
        super().stop_keepalive()

    def write_wire(self, wire: bytes) -> bool:
        """Write a frame made by `text_frame` at the end of this turn of the loop (with the others written to this
        socket in it, `_Outbox`); False when it must go through ASGI `send` instead."""
        if (
            self.close_sent
            or self.disconnected
            or not self.writable.is_set()
            or self.conn.state is not State.OPEN
            or self.conn.extensions
        ):
            return False
        _outbox(self.loop).add(self, wire)
        return True

    def write_now(self, wires: list[bytes]) -> None:
        # A close sent meanwhile (a client's close answered, a ping unanswered, the server stopping) ends the
        # stream: frames after it would be a protocol error. The client resumes from its last seq.
        if not (self.close_sent or self.disconnected or self.conn.state is not State.OPEN):
            self.transport.write(wires[0] if len(wires) == 1 else b"".join(wires))

    async def send(self, message: Any) -> None:
        """ASGI send: after the frames `write_wire` took before it (a close must not overtake them)."""
        _outbox(self.loop).flush_one(self)
        await super().send(message)
