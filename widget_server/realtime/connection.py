"""One client's WebSocket: a bounded outgoing queue drained by one sender task, and the inbound limits.

Everything bound for the client goes out in the order it happened (events from the bus, acknowledgements,
answers). An event that finds nothing queued before it is written straight to the socket in the publisher's turn,
as bytes encoded once for every client (realtime/ws_protocol.py); anything else waits in the queue for the sender.
A client that does not read fast enough is disconnected rather than allowed to grow memory or slow the others;
it resumes by `seq` when it comes back.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from widget_server.clock import Clock
from widget_server.config import Settings
from widget_server.domain.delivery import DeliveryTracker, Verdict
from widget_server.domain.rate_limit import TokenBucket
from widget_server.errors import OpenlineError
from widget_server.realtime.events import Event
from widget_server.realtime.ws_protocol import WIRE_EXTENSION

log = logging.getLogger(__name__)

# Reads the messages of a dialog with after < seq <= upto, as encoded frames in seq order.
RangeLoader = Callable[[int, int, int], Awaitable[list[str]]]
Action = Callable[["Connection"], Awaitable[None]]

CLOSE_FLOOD = 1008
CLOSE_TOO_SLOW = 1013


class Connection:
    def __init__(self, websocket: WebSocket, settings: Settings, clock: Clock, load_range: RangeLoader) -> None:
        self.websocket = websocket
        self.clock = clock
        self.load_range = load_range
        self.tracker = DeliveryTracker()
        # Visitors own every dialog they hear about and must get all of it; operators hear of many dialogs
        # they have not opened, which are only list previews until they join them.
        self.strict_unknown_dialogs = False
        self.on_dialog_event: Callable[[int], None] | None = None
        # Re-reads from the database what the client shows, when the bus may have lost events (see bus.py).
        self.resync: Action | None = None
        self._resync_queued = False
        # What waits for the sender, and the sender itself: both exist only while something waits (an idle
        # connection is most of them, and each queue and task costs kilobytes).
        self._queue: collections.deque[Event | Action] | None = None
        self._queue_max = settings.send_queue_max
        self._started = False
        self._bucket = TokenBucket.full(settings.rate_limit_per_sec, settings.rate_limit_burst, clock.monotonic())
        self._refused = 0
        self._flood_limit = 3 * settings.rate_limit_burst
        self._sender: asyncio.Task[None] | None = None
        # Writes a frame's bytes to the socket, or says it cannot now (ws_protocol.py); None under other servers.
        self._write_wire: Callable[[bytes], bool] | None = websocket.scope.get("extensions", {}).get(WIRE_EXTENSION)
        self._unsubscribes: list[Callable[[], None]] = []
        self.closed = False
        self.close_code: int | None = None  # how the client went, once it has (1012: this server is restarting)

    # -- outgoing ---------------------------------------------------------------------------------

    async def send_now(self, payload: dict[str, Any]) -> None:
        """Send from inside the sender's turn (an `Action`), ahead of what is still queued."""
        await self.websocket.send_text(orjson.dumps(payload).decode())

    def push(self, item: Event | Action) -> None:
        if self.closed:
            return
        if isinstance(item, Event) and self._deliver_now(item):
            return
        if self._queue is None:
            self._queue = collections.deque()
        if len(self._queue) >= self._queue_max:
            log.info("closing a connection that does not keep up with its queue")
            self.closed = True
            asyncio.get_running_loop().create_task(self._close(CLOSE_TOO_SLOW, "too slow"))
            return
        self._queue.append(item)
        self._wake_sender()

    def reply(self, payload: dict[str, Any]) -> None:
        self.push(Event.of(payload))

    def error(self, exc: OpenlineError, ref: str | None = None) -> None:
        self.reply({"type": "error", "code": exc.code, "message": exc.message, "ref": ref})

    def on_event(self, event: Event) -> None:
        """Bus callback: runs synchronously in the publisher's turn, so it only enqueues."""
        self.push(event)

    async def send_history(self, dialog_id: int, messages: list[dict[str, Any]]) -> None:
        """Send messages read from the database (in seq order), skipping those this connection delivered."""
        if not self.tracker.knows(dialog_id):
            self.tracker.start(dialog_id, 0)
        for message in messages:
            if message["seq"] > self.tracker.last(dialog_id):
                await self.send_now(message)
                self.tracker.mark(dialog_id, message["seq"])

    def on_resync(self) -> None:
        """Bus callback: queue one re-read, however many topics asked for it at once."""
        if self.resync is None or self._resync_queued:
            return
        self._resync_queued = True
        self.push(self._run_resync)

    async def _run_resync(self, conn: Connection) -> None:
        self._resync_queued = False  # a notice arriving while we read asks for another read: it may be newer
        assert self.resync is not None
        await self.resync(conn)

    def subscribe(self, unsubscribe: Callable[[], None]) -> None:
        self._unsubscribes.append(unsubscribe)

    async def run_in_order(self, action: Action) -> None:
        """Run `action` in the sender's turn, after everything queued before it, and wait for it."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def wrapped(conn: Connection) -> None:
            try:
                await action(conn)
            except BaseException as exc:
                if not done.done():
                    done.set_exception(exc)
                raise
            if not done.done():
                done.set_result(None)

        self.push(wrapped)
        if self._sender is None:
            raise ConnectionError("the connection closed")
        finished, _ = await asyncio.wait({done, self._sender}, return_when=asyncio.FIRST_COMPLETED)
        if done in finished:
            done.result()
        else:
            raise ConnectionError("the connection closed")

    def start_sender(self) -> None:
        """From now on, what is queued is sent (by a task that runs while anything waits)."""
        self._started = True
        self._wake_sender()

    def _wake_sender(self) -> None:
        if self._started and self._sender is None and self._queue:
            self._sender = asyncio.get_running_loop().create_task(self._send_loop())

    async def _send_loop(self) -> None:
        queue = self._queue
        assert queue is not None
        try:
            while queue:
                item = queue[0]  # left in place while it is sent: the queue stays non-empty, in order
                try:
                    if isinstance(item, Event):
                        await self._deliver(item)
                    else:
                        await item(self)
                finally:
                    if queue and queue[0] is item:
                        queue.popleft()
        except (WebSocketDisconnect, RuntimeError, OSError):
            # The client went away mid-send; the reader notices and cleans up.
            self.closed = True
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sender failed")
            self.closed = True
            await self._close(1011, "internal error")
        finally:
            if self._sender is asyncio.current_task():
                self._sender = None
                self._queue = queue if queue else None

    def _deliver_now(self, event: Event) -> bool:
        """Deliver `event` now, in the caller's turn, when nothing waits before it; False: it must queue."""
        write = self._write_wire
        if write is None or self._queue or not self._started:
            return False
        dialog_id, seq = event.dialog_id, event.seq
        tracked = dialog_id is not None and seq is not None
        if tracked:
            assert dialog_id is not None and seq is not None
            if self.tracker.knows(dialog_id):
                verdict = self.tracker.judge(dialog_id, seq)
                if verdict is Verdict.FILL_GAP:
                    return False  # the sender reads the missing range first
            elif self.strict_unknown_dialogs:
                if seq != 1:
                    return False  # a dialog heard of in the middle: the sender reads it from the start
                verdict = Verdict.SEND
            else:
                tracked, verdict = False, Verdict.SEND  # a list preview, not followed by seq
            if verdict is Verdict.DROP:
                if self.on_dialog_event is not None:
                    self.on_dialog_event(dialog_id)
                return True
        if not write(event.wire):
            return False
        if dialog_id is not None and self.on_dialog_event is not None:
            self.on_dialog_event(dialog_id)
        if tracked:
            assert dialog_id is not None and seq is not None
            self.tracker.mark(dialog_id, seq)
        return True

    async def _deliver(self, event: Event) -> None:
        dialog_id, seq = event.dialog_id, event.seq
        if dialog_id is not None and self.on_dialog_event is not None:
            self.on_dialog_event(dialog_id)
        if dialog_id is None or seq is None:
            await self.websocket.send_text(event.frame)
            return
        if not self.tracker.knows(dialog_id):
            if not self.strict_unknown_dialogs:
                await self.websocket.send_text(event.frame)
                return
            self.tracker.start(dialog_id, 0)
        verdict = self.tracker.judge(dialog_id, seq)
        if verdict is Verdict.DROP:
            return
        if verdict is Verdict.FILL_GAP:
            for frame in await self.load_range(dialog_id, self.tracker.last(dialog_id), seq - 1):
                await self.websocket.send_text(frame)
        await self.websocket.send_text(event.frame)
        self.tracker.mark(dialog_id, seq)

    # -- incoming ---------------------------------------------------------------------------------

    def allow_frame(self) -> bool:
        """Rate limit: False means refuse this frame; `flooding` tells when to give up on the client."""
        if self._bucket.take(self.clock.monotonic()):
            return True
        self._refused += 1
        return False

    @property
    def flooding(self) -> bool:
        return self._refused >= self._flood_limit

    async def receive(self) -> str | bytes | None:
        """The next frame: text, bytes for a binary frame, None when the client has gone."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            self.close_code = message.get("code")
            return None
        text = message.get("text")
        if text is None:
            return bytes(message.get("bytes") or b"")
        return str(text)

    # -- closing ----------------------------------------------------------------------------------

    async def _close(self, code: int, reason: str) -> None:
        if self._sender is not None and self._sender is not asyncio.current_task():
            self._sender.cancel()
        with contextlib.suppress(Exception):
            if self.websocket.application_state == WebSocketState.CONNECTED:
                await self.websocket.close(code, reason)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = True
        await self._close(code, reason)

    async def flush(self) -> None:
        """Give the sender a moment to send what is queued (an error frame before a close)."""
        if self._sender is not None:
            await asyncio.wait({self._sender}, timeout=2.0)

    async def cleanup(self) -> None:
        self.closed = True
        for unsubscribe in self._unsubscribes:
            unsubscribe()
        self._unsubscribes.clear()
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sender
