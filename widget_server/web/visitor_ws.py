"""The visitor's WebSocket: `/ws/visitor?line=<id>`. See docs/protocol.md."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import JSONResponse
from starlette.websockets import WebSocket

from widget_server.domain.origins import origin_allowed
from widget_server.domain.text import TextProblem, clean_message_text, single_line
from widget_server.domain.visibility import Audience
from widget_server.errors import Conflict, FormRejected, InvalidInput, NotFound, OpenlineError
from widget_server.i18n.widget_strings import widget_strings
from widget_server.realtime.bus import Bus
from widget_server.realtime.connection import Connection
from widget_server.realtime.events import Event, visitor_topic
from widget_server.realtime.frames import (
    VISITOR_FRAMES,
    FormDismiss,
    FormSubmit,
    Frame,
    Hello,
    Open,
    Ping,
    TranscriptRequestIn,
    VisitorSeen,
    VisitorSend,
    VisitorTyping,
)
from widget_server.realtime.visitor_pages import VisitorPages
from widget_server.services import conversation_mail, dialogs, forms, lines, resume_links, visitors, welcome
from widget_server.services.context import Context
from widget_server.services.dialogs import Page
from widget_server.services.records import Arrival, Dialog, LineView, Row
from widget_server.web.socket_loop import Acked, next_frame, serve_frames

log = logging.getLogger(__name__)


def _denial(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def visitor_socket(websocket: WebSocket) -> None:
    ctx: Context = websocket.app.state.ctx
    line_id = websocket.query_params.get("line")
    if not line_id:
        await websocket.send_denial_response(_denial(400, "line_required", "Add ?line=<line id> to the URL"))
        return
    try:
        line = await lines.get_line(ctx, line_id)
    except NotFound:
        await websocket.send_denial_response(_denial(404, "unknown_line", "No such line"))
        return
    if not origin_allowed(websocket.headers.get("origin"), line.allowed_origins):
        await websocket.send_denial_response(
            _denial(403, "origin_not_allowed", "This site is not allowed to open this line")
        )
        return
    await websocket.accept()
    session = VisitorSession(ctx, websocket, line)
    try:
        await session.run()
    finally:
        await session.conn.cleanup()
        await session.left_page()


# The close code uvicorn gives every socket when the server shuts down (a deploy, a restart).
SERVER_RESTARTING = 1012


class VisitorSession:
    def __init__(self, ctx: Context, websocket: WebSocket, line: LineView) -> None:
        self.ctx = ctx
        self.bus: Bus = websocket.app.state.bus
        self.line = line
        self.conn = Connection(websocket, ctx.settings, ctx.clock, self._load_range)
        self.conn.strict_unknown_dialogs = True
        self.conn.on_dialog_event = self._note_dialog
        self.conn.resync = self._resync
        self.visitor_id: int | None = None  # an id, not the ORM instance: idle connections are most of them
        self.dialog_id: int | None = None
        self.page = Page()
        self.pages: VisitorPages = websocket.app.state.visitor_pages
        self.page_counted = False

    async def left_page(self) -> None:
        """The page went away: when it was the visitor's last one, the unread e-mail need not wait a minute."""
        if not self.page_counted or self.visitor_id is None:
            return
        if self.pages.closed(self.visitor_id, self.line.id):
            if self.conn.close_code == SERVER_RESTARTING:
                return  # the page is still open: its widget comes back to the next server within seconds
            try:
                await conversation_mail.on_visitor_left_page(self.ctx, self.visitor_id, self.line.id)
            except Exception:
                log.exception("recording that a visitor left failed")

    def _note_dialog(self, dialog_id: int) -> None:
        # Another tab may have started a newer dialog; typing and seen follow the newest one.
        if self.dialog_id is None or dialog_id > self.dialog_id:
            self.dialog_id = dialog_id

    async def _load_range(self, dialog_id: int, after: int, upto: int) -> list[str]:
        payloads = await dialogs.load_messages(self.ctx, dialog_id, after, upto, audience=Audience.VISITOR)
        return [Event.of(p).frame for p in payloads]

    async def run(self) -> None:
        self.conn.start_sender()
        try:
            hello = await asyncio.wait_for(self._await_hello(), self.ctx.settings.hello_timeout)
        except TimeoutError:
            await self.conn.close(4408, "hello timeout")
            return
        if hello is None:
            return
        await self._welcome(hello)
        del hello  # else this frame keeps it for the connection's life
        # Nothing reads the handshake's headers after the welcome; the scope would keep them (about 1.5 KB) for
        # the connection's life.
        self.conn.websocket.scope["headers"] = []
        vars(self.conn.websocket).pop("_headers", None)
        await serve_frames(self.conn, VISITOR_FRAMES, self._handle)

    async def _await_hello(self) -> Hello | None:
        while True:
            frame = await next_frame(self.conn, VISITOR_FRAMES)
            if frame is None or isinstance(frame, Hello):
                if isinstance(frame, Hello) and frame.line not in (None, self.line.id):
                    self.conn.error(InvalidInput("line: not the line of this connection", "line_mismatch"))
                    continue
                return frame
            self.conn.error(
                InvalidInput("Send hello first", "hello_required"),
                getattr(frame, "client_msg_id", None) or getattr(frame, "ref", None),
            )

    async def _welcome(self, hello: Hello) -> None:
        ctx = self.ctx
        if hello.page is not None:
            self.page = Page(
                url=single_line(hello.page.url, 2048) if hello.page.url else None,
                title=single_line(hello.page.title, 300) if hello.page.title else None,
            )
        linked: resume_links.FollowedLink | None = None
        if hello.link:
            try:
                linked = await resume_links.follow_link(ctx, self.line, hello.link, hello.token, hello.lang)
            except OpenlineError as exc:
                self.conn.error(exc)
        arrival: Arrival | None = None  # what one read told of a hello with a token
        if linked is not None:
            who = linked.who
        else:
            if hello.token:
                named = hello.resume.dialog_id if hello.resume is not None else None
                arrival = await welcome.arrival(ctx, hello.token, self.line.id, named)
            headers = self.conn.websocket.headers
            who = await visitors.identified(
                ctx,
                arrival.visitor if arrival is not None else None,
                hello.token,
                hello.lang,
                headers.get("user-agent"),
                visitors.location_from_headers(headers),
            )
        assert who.visitor.id is not None
        self.visitor_id = visitor_id = who.visitor.id
        if who.token_was_invalid:
            self.conn.error(InvalidInput("This visitor token is unknown; a new one was issued", "invalid_token"))
        self.pages.opened(visitor_id, self.line.id)
        self.page_counted = True
        if arrival is not None and arrival.visitor is None:
            arrival = None  # an unknown token: a new visitor, of whom it told nothing
        if arrival is not None:
            await conversation_mail.pages_reopened(ctx, arrival.closed_page_dialogs)
        elif not who.is_new:  # a new visitor has no dialogs yet
            await conversation_mail.on_visitor_returned(ctx, visitor_id, self.line.id)

        resume_id: int | None = None
        if hello.resume is not None and not who.is_new:
            try:
                if arrival is not None:
                    dialog = welcome.as_dialog(arrival.resume_dialog) if arrival.resume_dialog else None
                    dialogs.check_visitor_dialog(dialog, visitor_id, self.line.id)
                else:
                    await dialogs.visitor_dialog(ctx, visitor_id, self.line.id, hello.resume.dialog_id)
                resume_id = hello.resume.dialog_id
            except OpenlineError as exc:
                self.conn.error(exc)
        resume_after = hello.resume.last_seq if hello.resume is not None else 0
        linked_id = linked.dialog.id if linked is not None else None

        def choose(latest: Row | None) -> tuple[int | None, int]:
            shown: int | None = latest["id"] if latest is not None else None
            after = 0
            if resume_id is not None:
                shown, after = resume_id, resume_after
                if latest is not None and latest["id"] != resume_id:
                    shown, after = latest["id"], 0  # the client was showing an older dialog
            if linked_id is not None and shown != linked_id:
                shown, after = linked_id, 0  # the e-mail's link names the dialog to show
            return shown, after

        async def welcome_frames(conn: Connection) -> None:
            # Subscribed before reading, inside the sender's turn: whatever is published from here on waits in
            # the queue behind the welcome and is then deduplicated by seq.
            topic = visitor_topic(visitor_id, self.line.id)
            conn.subscribe(self.bus.subscribe(topic, conn.on_event, conn.on_resync))
            await self.bus.listening(topic)  # with several processes: until the others' events reach us
            view = await welcome.welcome_view(ctx, self.line, visitor_id, choose)
            await conn.send_now(
                {
                    "type": "welcome",
                    "visitor": {"id": visitor_id, "token": who.token},
                    "line": {
                        "id": self.line.id,
                        "name": self.line.name,
                        "language": self.line.language,
                        "strings": widget_strings(self.line.language),
                    },
                    "dialog": view.dialog,
                    "messages": view.messages,
                    "resumed": resume_id is not None and view.dialog_id == resume_id,
                    **({"opened_by_link": True} if linked is not None else {}),
                }
            )
            if view.dialog_id is not None:
                self.dialog_id = view.dialog_id
                conn.tracker.start(view.dialog_id, max([view.after] + [m["seq"] for m in view.messages]))
            # A form that was showing when the visitor left (or in another tab) is shown again.
            for frame in view.form_frames:
                await conn.send_now(frame)

        await self.conn.run_in_order(welcome_frames)

    async def _resync(self, conn: Connection) -> None:
        """The bus may have lost events: send the current dialog as it is now and every message not yet sent."""
        assert self.visitor_id is not None
        latest = await dialogs.latest_dialog(self.ctx, self.visitor_id, self.line.id)
        if latest is None or latest.id is None:
            return
        for dialog_id in sorted(set(conn.tracker.delivered) - {latest.id}):
            await conn.send_history(
                dialog_id,
                await dialogs.load_messages(
                    self.ctx, dialog_id, conn.tracker.last(dialog_id), audience=Audience.VISITOR
                ),
            )
        await conn.send_now({"type": "dialog", "dialog": await dialogs.visitor_view(self.ctx, latest)})
        messages = await dialogs.load_messages(
            self.ctx, latest.id, conn.tracker.last(latest.id), audience=Audience.VISITOR
        )
        await conn.send_history(latest.id, messages)
        self._note_dialog(latest.id)

    async def _handle(self, frame: Frame) -> Acked | None:
        assert self.visitor_id is not None
        return await _VISITOR_USE_CASES[type(frame)](self, frame)

    async def _send(self, frame: VisitorSend) -> Acked:
        assert self.visitor_id is not None
        text = clean_message_text(frame.text, self.ctx.settings.max_message_chars)
        if isinstance(text, TextProblem):
            raise InvalidInput(text.message, text.code)
        outcome = await dialogs.visitor_send(self.ctx, self.line, self.visitor_id, self.page, frame.client_msg_id, text)
        self.dialog_id = outcome.dialog.id
        return Acked.of(frame.client_msg_id, outcome)

    async def _open(self, frame: Open) -> Acked:
        assert self.visitor_id is not None
        outcome = await dialogs.open_for_visitor(self.ctx, self.line, self.visitor_id, self.page)
        self.dialog_id = outcome.dialog.id
        if not outcome.created:
            self.conn.reply({"type": "dialog", "dialog": await dialogs.visitor_view(self.ctx, outcome.dialog)})
        return Acked(frame.ref, outcome.dialog.id, None, duplicate=not outcome.created)

    async def _typing(self, frame: VisitorTyping) -> None:
        dialogs.typing(self.ctx, await self._current_dialog(), "visitor", frame.active)

    async def _seen(self, frame: VisitorSeen) -> None:
        await dialogs.mark_seen(self.ctx, await self._current_dialog(), "visitor", frame.seq)

    async def _ping(self, _: Ping) -> None:
        self.conn.reply({"type": "pong"})

    async def _hello_again(self, _: Hello) -> Acked:
        return Acked(None, None, None, duplicate=True)  # the connection has said hello: nothing changed

    async def _form_submit(self, frame: FormSubmit) -> Acked | None:
        assert self.visitor_id is not None
        try:
            outcome = await forms.submit(self.ctx, self.line, self.visitor_id, frame.form_id, frame.ref, frame.values)
        except FormRejected as exc:
            self.conn.reply(
                {
                    "type": "form.error",
                    "ref": frame.ref,
                    "form_id": frame.form_id,
                    "code": exc.code,
                    "message": exc.message,
                    "errors": exc.fields,
                }
            )
            return None
        return _form_acked(frame.ref, outcome)

    async def _form_dismiss(self, frame: FormDismiss) -> Acked:
        assert self.visitor_id is not None
        return _form_acked(frame.ref, await forms.dismiss(self.ctx, self.line, self.visitor_id, frame.form_id))

    async def _transcript(self, frame: TranscriptRequestIn) -> Acked:
        assert self.visitor_id is not None
        return _form_acked(frame.ref, await forms.request_transcript(self.ctx, self.line, self.visitor_id))

    async def _current_dialog(self) -> Dialog:
        assert self.visitor_id is not None
        if self.dialog_id is None:
            raise Conflict("There is no dialog yet; send a message or open the chat first", "no_dialog")
        return await dialogs.visitor_dialog(self.ctx, self.visitor_id, self.line.id, self.dialog_id)


def _form_acked(ref: str | None, outcome: forms.FormOutcome) -> Acked:
    return Acked(ref, outcome.dialog_id, None, outcome.duplicate, form=True, form_id=outcome.form_id)


# Each frame a visitor may send after `hello`, and its use case (docs/protocol.md).
_VISITOR_USE_CASES: dict[type[Frame], Callable[[VisitorSession, Any], Awaitable[Acked | None]]] = {
    VisitorSend: VisitorSession._send,
    Open: VisitorSession._open,
    VisitorTyping: VisitorSession._typing,
    VisitorSeen: VisitorSession._seen,
    FormSubmit: VisitorSession._form_submit,
    FormDismiss: VisitorSession._form_dismiss,
    TranscriptRequestIn: VisitorSession._transcript,
    Ping: VisitorSession._ping,
    Hello: VisitorSession._hello_again,
}
