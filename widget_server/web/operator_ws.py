"""The operator's WebSocket: `/ws/operator`. See docs/protocol.md."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import JSONResponse
from starlette.websockets import WebSocket

from widget_server.domain.dialog_state import DialogStatus
from widget_server.domain.origins import origin_allowed
from widget_server.domain.text import TextProblem, clean_message_text
from widget_server.domain.visibility import Audience
from widget_server.errors import InvalidInput, Unauthenticated
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
from widget_server.services.operators import OperatorIdentity
from widget_server.web.session_cookie import SESSION_COOKIE
from widget_server.web.socket_loop import Acked, next_frame, serve_frames

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

    async def _handle(self, frame: Frame) -> Acked | None:
        assert self.who is not None
        return await _OPERATOR_USE_CASES[type(frame)](self, self.who, frame)

    async def _join(self, who: OperatorIdentity, frame: Join) -> None:
        ctx = self.ctx
        await dialogs.operator_join(ctx, who, frame.dialog_id)
        dialog_id, last_seq = frame.dialog_id, frame.last_seq

        async def joined(conn: Connection) -> None:
            after = max(last_seq, conn.tracker.last(dialog_id)) if conn.tracker.knows(dialog_id) else last_seq
            messages = await dialogs.load_messages(ctx, dialog_id, after, audience=Audience.STAFF)
            summary = (await dialog_messages.summaries(ctx, dialog_ids=[dialog_id], open_only=False))[0]
            await conn.send_now({"type": "joined", "dialog": summary, "messages": messages})
            conn.tracker.start(dialog_id, max([after] + [m["seq"] for m in messages]))

        self.conn.push(joined)

    def _text(self, raw: str) -> str:
        text = clean_message_text(raw, self.ctx.settings.max_message_chars)
        if isinstance(text, TextProblem):
            raise InvalidInput(text.message, text.code)
        return text

    async def _send(self, who: OperatorIdentity, frame: OperatorSend) -> Acked:
        text = self._text(frame.text)
        outcome = await dialogs.operator_send(self.ctx, who, frame.dialog_id, frame.client_msg_id, text)
        return Acked.of(frame.client_msg_id, outcome, frame.dialog_id)

    async def _note(self, who: OperatorIdentity, frame: OperatorNote) -> Acked:
        text = self._text(frame.text)
        outcome = await dialog_actions.add_note(self.ctx, who, frame.dialog_id, frame.client_msg_id, text)
        return Acked.of(frame.client_msg_id, outcome, frame.dialog_id)

    async def _typing(self, who: OperatorIdentity, frame: OperatorTyping) -> None:
        dialog = await dialogs.check_operator_access(self.ctx, who, frame.dialog_id)
        dialogs.typing(self.ctx, dialog, "operator", frame.active, who.name)

    async def _seen(self, who: OperatorIdentity, frame: OperatorSeen) -> None:
        dialog = await dialogs.check_operator_access(self.ctx, who, frame.dialog_id)
        await dialogs.mark_seen(self.ctx, dialog, "operator", frame.seq)

    async def _close(self, who: OperatorIdentity, frame: Close) -> Acked:
        return Acked.of(frame.ref, await dialogs.close_dialog(self.ctx, who, frame.dialog_id), frame.dialog_id)

    async def _set_status(self, who: OperatorIdentity, frame: SetStatus) -> Acked:
        outcome = await dialog_actions.set_status(self.ctx, who, frame.dialog_id, DialogStatus(frame.status))
        return Acked.of(frame.ref, outcome, frame.dialog_id)

    async def _leave(self, who: OperatorIdentity, frame: Leave) -> Acked:
        return Acked.of(frame.ref, await dialog_actions.leave(self.ctx, who, frame.dialog_id), frame.dialog_id)

    async def _assign(self, who: OperatorIdentity, frame: Assign) -> Acked:
        outcome = await dialog_actions.assign(self.ctx, who, frame.dialog_id, frame.operator_id, frame.mode)
        return Acked.of(frame.ref, outcome, frame.dialog_id)

    async def _auth(self, _who: OperatorIdentity, _frame: Auth) -> Acked:
        return Acked(None, None, None, duplicate=True)  # already authenticated: nothing changed

    async def _ping(self, _who: OperatorIdentity, _frame: Ping) -> None:
        self.conn.reply({"type": "pong"})


# Each frame an operator may send after `auth`, and its use case (docs/protocol.md).
_OPERATOR_USE_CASES: dict[type[Frame], Callable[[OperatorSession, OperatorIdentity, Any], Awaitable[Acked | None]]] = {
    Join: OperatorSession._join,
    OperatorSend: OperatorSession._send,
    OperatorNote: OperatorSession._note,
    OperatorTyping: OperatorSession._typing,
    OperatorSeen: OperatorSession._seen,
    Close: OperatorSession._close,
    SetStatus: OperatorSession._set_status,
    Leave: OperatorSession._leave,
    Assign: OperatorSession._assign,
    Auth: OperatorSession._auth,
    Ping: OperatorSession._ping,
}
