"""The operator's WebSocket: `/ws/operator`. See docs/protocol.md."""

from __future__ import annotations

import asyncio
import logging

from starlette.responses import JSONResponse
from starlette.websockets import WebSocket

from widget_server.domain.dialog_state import DialogStatus
from widget_server.domain.origins import origin_allowed
from widget_server.domain.text import TextProblem, clean_message_text
from widget_server.domain.visibility import Audience
from widget_server.errors import InvalidInput, OpenlineError, Unauthenticated
from widget_server.realtime.bus import Bus
from widget_server.realtime.connection import Connection
from widget_server.realtime.events import ACCOUNT_CHANGED, Event, line_topic, operator_topic
from widget_server.realtime.frames import (
    OPERATOR_FRAMES,
    Assign,
    Auth,
    Close,
    Frame,
    Join,
    Leave,
    OperatorNote,
    OperatorSeen,
    OperatorSend,
    OperatorTyping,
    Ping,
    SetStatus,
)
from widget_server.services import agenda, dialog_actions, dialog_messages, dialogs, operators, presence
from widget_server.services.context import Context
from widget_server.services.dialog_messages import Outcome
from widget_server.services.operators import OperatorIdentity
from widget_server.web.session_cookie import SESSION_COOKIE
from widget_server.web.socket_loop import next_frame, serve_frames

log = logging.getLogger(__name__)

CLOSE_ACCOUNT_CHANGED = 4001


async def operator_socket(websocket: WebSocket) -> None:
    ctx: Context = websocket.app.state.ctx
    if not origin_allowed(websocket.headers.get("origin"), [ctx.settings.public_origin]):
        await websocket.send_denial_response(
            JSONResponse(
                {"error": {"code": "origin_not_allowed", "message": "Open the console from this server"}},
                status_code=403,
            )
        )
        return
    await websocket.accept()
    session = OperatorSession(ctx, websocket)
    try:
        await session.run()
    finally:
        await session.conn.cleanup()


class OperatorSession:
    def __init__(self, ctx: Context, websocket: WebSocket) -> None:
        self.ctx = ctx
        self.bus: Bus = websocket.app.state.bus
        self.conn = Connection(websocket, ctx.settings, ctx.clock, self._load_range)
        self.conn.resync = self._resync
        self.who: OperatorIdentity | None = None
        self.token: str | None = None  # the session this console runs on, checked again when the account changes
        self.connection_id: str | None = None

    async def _load_range(self, dialog_id: int, after: int, upto: int) -> list[str]:
        payloads = await dialogs.load_messages(self.ctx, dialog_id, after, upto, audience=Audience.STAFF)
        return [Event.of(p).frame for p in payloads]

    async def run(self) -> None:
        self.conn.start_sender()
        cookie = self.conn.websocket.cookies.get(SESSION_COOKIE)
        try:
            if cookie:
                try:
                    self.who = await operators.authenticate(self.ctx, cookie)
                    self.token = cookie
                except Unauthenticated:
                    self.who = None
            if self.who is None:
                self.who = await asyncio.wait_for(self._await_auth(), self.ctx.settings.hello_timeout)
        except TimeoutError:
            await self.conn.close(4408, "auth timeout")
            return
        except Unauthenticated as exc:
            self.conn.error(exc)
            await self.conn.flush()
            await self.conn.close(4401, "unauthenticated")
            return
        if self.who is None:
            return
        self.connection_id = await presence.console_connected(self.ctx, self.who.id)
        try:
            await self.conn.run_in_order(self._ready)
            await serve_frames(self.conn, OPERATOR_FRAMES, self._handle)
        finally:
            await presence.console_disconnected(self.ctx, self.connection_id)

    async def _await_auth(self) -> OperatorIdentity | None:
        while True:
            frame = await next_frame(self.conn, OPERATOR_FRAMES)
            if frame is None:
                return None
            if isinstance(frame, Auth):
                who = await operators.authenticate(self.ctx, frame.token)
                self.token = frame.token
                return who
            raise Unauthenticated("Send auth first")

    async def _ready(self, conn: Connection) -> None:
        who = self.who
        assert who is not None
        # The lines' topics for the inbox, and the operator's own for what concerns only them (reminders).
        topics = [line_topic(line_id) for line_id in who.line_ids] + [operator_topic(who.id)]
        for topic in topics[:-1]:
            conn.subscribe(self.bus.subscribe(topic, conn.on_event, conn.on_resync))
        conn.subscribe(self.bus.subscribe(topics[-1], self._on_own_event, conn.on_resync))
        # With several processes: until the other processes' events reach us, so the list below misses none.
        await asyncio.gather(*(self.bus.listening(topic) for topic in topics))
        await self._send_ready(conn)

    def _on_own_event(self, event: Event) -> None:
        if event.frame == ACCOUNT_CHANGED.frame:
            self.conn.push(self._check_account)
        else:
            self.conn.on_event(event)

    async def _check_account(self, conn: Connection) -> None:
        """The operator's account or a session changed: go on only if this session still gives the same access.
        Otherwise the console must reconnect (and load what it may see now) or log in again; see docs/protocol.md."""
        try:
            now = await operators.authenticate(self.ctx, self.token)
        except Unauthenticated as exc:
            await conn.send_now({"type": "error", "code": exc.code, "message": exc.message, "ref": None})
            await conn.close(4401, "unauthenticated")
            return
        if now != self.who:
            message = "Your account was changed by an admin; reconnecting"
            await conn.send_now({"type": "error", "code": "account_changed", "message": message, "ref": None})
            await conn.close(CLOSE_ACCOUNT_CHANGED, "account changed")

    async def _resync(self, conn: Connection) -> None:
        """The bus may have lost events: a fresh list, and the messages of the open dialogs not yet sent."""
        await self._check_account(conn)  # a lost event may have been the account's change
        if conn.closed:
            return
        await self._send_ready(conn)
        for dialog_id in sorted(conn.tracker.delivered):
            await conn.send_history(
                dialog_id,
                await dialogs.load_messages(self.ctx, dialog_id, conn.tracker.last(dialog_id), audience=Audience.STAFF),
            )

    async def _send_ready(self, conn: Connection) -> None:
        who = self.who
        assert who is not None
        await conn.send_now(
            {
                "type": "ready",
                "operator": who.public(),
                "line_ids": sorted(who.line_ids),
                "presence": await presence.presence_of(self.ctx, who.id),
                "dialogs": await dialog_messages.summaries(self.ctx, line_ids=who.line_ids),
                # Reminders that fired while this operator was away, until they dismiss them.
                "reminders": await agenda.fired_reminders(self.ctx, who),
            }
        )

    def _ack(self, ref: str | None, dialog_id: int, outcome: Outcome) -> None:
        self.conn.reply(
            {"type": "ack", "ref": ref, "dialog_id": dialog_id, "seq": outcome.seq, "duplicate": outcome.duplicate}
        )

    async def _handle(self, frame: Frame) -> None:
        ctx, who = self.ctx, self.who
        assert who is not None
        if isinstance(frame, Join):
            await dialogs.operator_join(ctx, who, frame.dialog_id)
            dialog_id, last_seq = frame.dialog_id, frame.last_seq

            async def joined(conn: Connection) -> None:
                after = max(last_seq, conn.tracker.last(dialog_id)) if conn.tracker.knows(dialog_id) else last_seq
                messages = await dialogs.load_messages(ctx, dialog_id, after, audience=Audience.STAFF)
                summary = (await dialog_messages.summaries(ctx, dialog_ids=[dialog_id], open_only=False))[0]
                await conn.send_now({"type": "joined", "dialog": summary, "messages": messages})
                conn.tracker.start(dialog_id, max([after] + [m["seq"] for m in messages]))

            self.conn.push(joined)
        elif isinstance(frame, OperatorSend):
            text = clean_message_text(frame.text, ctx.settings.max_message_chars)
            if isinstance(text, TextProblem):
                raise InvalidInput(text.message, text.code)
            outcome = await dialogs.operator_send(ctx, who, frame.dialog_id, frame.client_msg_id, text)
            self.conn.reply(
                {
                    "type": "ack",
                    "ref": frame.client_msg_id,
                    "dialog_id": frame.dialog_id,
                    "seq": outcome.seq,
                    "duplicate": outcome.duplicate,
                }
            )
        elif isinstance(frame, OperatorTyping):
            dialog = await dialogs.check_operator_access(ctx, who, frame.dialog_id)
            dialogs.typing(ctx, dialog, "operator", frame.active, who.name)
        elif isinstance(frame, OperatorSeen):
            dialog = await dialogs.check_operator_access(ctx, who, frame.dialog_id)
            await dialogs.mark_seen(ctx, dialog, "operator", frame.seq)
        elif isinstance(frame, Close):
            self._ack(frame.ref, frame.dialog_id, await dialogs.close_dialog(ctx, who, frame.dialog_id))
        elif isinstance(frame, OperatorNote):
            text = clean_message_text(frame.text, ctx.settings.max_message_chars)
            if isinstance(text, TextProblem):
                raise InvalidInput(text.message, text.code)
            outcome = await dialog_actions.add_note(ctx, who, frame.dialog_id, frame.client_msg_id, text)
            self._ack(frame.client_msg_id, frame.dialog_id, outcome)
        elif isinstance(frame, SetStatus):
            outcome = await dialog_actions.set_status(ctx, who, frame.dialog_id, DialogStatus(frame.status))
            self._ack(frame.ref, frame.dialog_id, outcome)
        elif isinstance(frame, Leave):
            self._ack(frame.ref, frame.dialog_id, await dialog_actions.leave(ctx, who, frame.dialog_id))
        elif isinstance(frame, Assign):
            outcome = await dialog_actions.assign(ctx, who, frame.dialog_id, frame.operator_id, frame.mode)
            self._ack(frame.ref, frame.dialog_id, outcome)
        elif isinstance(frame, Auth):
            self.conn.reply({"type": "ack", "ref": None, "dialog_id": None, "seq": None, "duplicate": True})
        elif isinstance(frame, Ping):
            self.conn.reply({"type": "pong"})
        else:  # pragma: no cover - the parser only yields the frames above
            raise OpenlineError("unhandled frame", "internal")
