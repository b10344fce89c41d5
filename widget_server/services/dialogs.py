"""Dialogs and their messages: open, write, join, close, seen, history.

Every message follows `domain.message_append.decide` and is stored by the one writer (storage/message_writer.py):
most by its group commit, the rest by the use cases here, in a transaction that holds the dialog's row, so the
per-dialog `seq` is gap-free and a resent `client_msg_id` is found rather than stored twice. Events are published
only after the commit (`@publishes`, services/unit_of_work.py).

Who sees an entry is decided by its kind (`domain/visibility.py`): staff-only entries (notes, internal notices)
are published only on the line's topic and left out of everything read for a visitor. `load_messages` takes the
audience (history, resume, filling a gap); e-mails and transcripts read `conversation_emails.load_dialog`, which
keeps the same visitor kinds (tests/integration/test_notes_privacy.py follows a note down both paths).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.domain.dialog_state import DialogEvent, DialogStatus, next_status
from widget_server.domain.message_append import (
    Append,
    Decision,
    DialogFacts,
    Owed,
    Refusal,
    Refused,
    Request,
    Resent,
    StartDialog,
    Writer,
)
from widget_server.domain.permissions import works_on
from widget_server.domain.visibility import VISITOR_KINDS, Audience, Kind
from widget_server.errors import Conflict, Forbidden, NotFound
from widget_server.i18n import gettext
from widget_server.realtime.events import Event, line_topic, visitor_topic
from widget_server.services import conversation_mail, forms
from widget_server.services.context import Context
from widget_server.services.dialog_messages import (
    Author,
    Outcome,
    append_message,
    dialog_events,
    line_language,
    lock_dialog,
    message_event,
)
from widget_server.services.file_links import file_info
from widget_server.services.operators import OperatorIdentity
from widget_server.services.payloads import dialog_info, message_payload
from widget_server.services.unit_of_work import publish_all, publishes
from widget_server.services.uploads import StagedFile
from widget_server.storage import dialog_lookup, welcome_read
from widget_server.storage.message_writer import Draft, Written, decide_in
from widget_server.storage.snapshots import AttachmentSnapshot, DialogSnapshot, DialogView, LineView, MessageSnapshot
from widget_server.storage.tables import (
    Attachment,
    Counter,
    Dialog,
    DialogOperator,
    Message,
    Operator,
    Visitor,
    table_of,
)

_counters = table_of(Counter)
_dialog_operators = table_of(DialogOperator)
_dialogs = table_of(Dialog)

HISTORY_LIMIT = 200


@dataclass(frozen=True)
class Page:
    url: str | None = None
    title: str | None = None


async def _next_dialog_number(s: AsyncSession) -> int:
    # Row lock on PostgreSQL, the write lock on SQLite: two openings can never read the same value.
    result = await s.execute(
        update(Counter)
        .where(_counters.c.name == "dialog_number")
        .values(value=_counters.c.value + 1)
        .returning(_counters.c.value)
    )
    return int(result.scalar_one())


async def _create_dialog(
    ctx: Context, s: AsyncSession, line: LineView, visitor_id: int, page: Page, forms_now: bool = True
) -> Outcome:
    # Read here rather than kept by the connection: an idle connection holds no ORM instance, and the forms see
    # what the visitor told since they connected (a name given in an earlier dialog of this page).
    visitor = await s.get(Visitor, visitor_id)
    if visitor is None:
        raise NotFound("No such visitor", "unknown_visitor")
    now = ctx.clock.now()
    dialog = Dialog(
        number=await _next_dialog_number(s),
        line_id=line.id,
        visitor_id=visitor_id,
        status=DialogStatus.NEW.value,
        page_url=page.url,
        page_title=page.title,
        created_at=now,
        updated_at=now,
    )
    s.add(dialog)
    await s.flush()
    outcome = Outcome(dialog, created=True, visitor=visitor)
    if line.greeting:
        greeting = await append_message(ctx, s, dialog, Author("bot", line.name), line.greeting)
        outcome.events.append(message_event(ctx, dialog, greeting, line.name))
    if forms_now:  # else the caller tells the forms itself, with what it knows more
        outcome.events += await forms.dialog_started(ctx, s, dialog, (line, visitor))
    return outcome


async def latest_dialog(ctx: Context, visitor_id: int, line_id: str) -> Dialog | None:
    async with ctx.db.read() as s:
        return await dialog_lookup.latest_on_line(s, visitor_id, line_id)


async def visitor_dialog(ctx: Context, visitor_id: int, line_id: str, dialog_id: int) -> Dialog:
    """The dialog, if it is this visitor's on this line; otherwise Forbidden, whether or not it exists."""
    async with ctx.db.read() as s:
        dialog = await s.get(Dialog, dialog_id)
    check_visitor_dialog(dialog, visitor_id, line_id)
    assert dialog is not None
    return dialog


def check_visitor_dialog(dialog: DialogView | None, visitor_id: int, line_id: str) -> None:
    """Forbidden unless `dialog` is this visitor's on this line, whether or not it exists."""
    if dialog is None or dialog.visitor_id != visitor_id or dialog.line_id != line_id:
        raise Forbidden("This dialog is not yours")


@publishes
async def open_for_visitor(ctx: Context, line: LineView, visitor_id: int, page: Page) -> Outcome:
    """The visitor opened the chat: their first dialog on this line starts, with the greeting."""
    async with ctx.db.write() as s:
        existing = await dialog_lookup.latest_on_line(s, visitor_id, line.id)
        if existing is not None:
            return Outcome(existing)
        outcome = await _create_dialog(ctx, s, line, visitor_id, page)
    outcome.events[0:0] = await dialog_events(ctx, outcome.dialog)
    return outcome


@publishes
async def visitor_send(
    ctx: Context,
    line: LineView,
    visitor_id: int,
    page: Page,
    client_msg_id: str,
    text: str,
    file: StagedFile | None = None,
) -> Outcome:
    """The visitor writes (or attaches `file`, then `text` is its name): into their open dialog, or a new one."""
    request = Request(
        Writer.VISITOR, ctx.clock.now(), Kind.FILE if file else Kind.TEXT, client_msg_id, with_file=bool(file)
    )
    draft = Draft(request, text, visitor_line=(visitor_id, line.id), page=(page.url, page.title) if page.url else None)
    if file is None:
        written = await write_message(ctx, draft, None)
        if isinstance(written, Outcome):
            return written
    async with ctx.db.write() as s:
        decision, facts, earlier = await decide_in(s, draft)
        if not isinstance(decision, Append | StartDialog):
            return await _not_appended(s, decision, facts, earlier)
        if facts is None or isinstance(decision, StartDialog):
            outcome = await _create_dialog(ctx, s, line, visitor_id, page, forms_now=False)
        else:
            found = await s.get(Dialog, facts.id)
            assert found is not None
            outcome = Outcome(found)
        dialog = outcome.dialog
        assert isinstance(dialog, Dialog)  # made or read in this session, not a snapshot
        status_before = dialog.status
        dialog.status = next_status(DialogStatus(dialog.status), DialogEvent.VISITOR_MESSAGE).value
        if page.url:
            dialog.page_url, dialog.page_title = page.url, page.title
        message = await append_message(
            ctx, s, dialog, Author("visitor"), text, kind=request.kind, client_msg_id=client_msg_id
        )
        attachment = await _attach(s, dialog, message, file, "visitor")
        outcome.events.append(message_event(ctx, dialog, message, None, attachment))
        outcome.seq = message.seq
        started = (line, outcome.visitor) if outcome.visitor is not None else None
        outcome.events += await forms.visitor_wrote(ctx, s, dialog, started)
    if outcome.created or dialog.status != status_before:
        outcome.events[0:0] = await dialog_events(ctx, dialog)
    return outcome


async def _attach(
    s: AsyncSession, dialog: Dialog, message: Message, file: StagedFile | None, uploader: str
) -> Attachment | None:
    if file is None:
        return None
    assert dialog.id is not None  # the message is in it already
    attachment = Attachment(
        id=file.id,
        dialog_id=dialog.id,
        message_id=message.id,
        name=file.name,
        content_type=file.content_type,
        size=file.size,
        sha256=file.sha256,
        storage_key=file.storage_key,
        uploader_type=uploader,
        created_at=message.created_at,
    )
    s.add(attachment)
    await s.flush()
    return attachment


def _refusal(refused: Refused) -> Exception:
    if refused.reason is Refusal.FORBIDDEN:
        # The same answer for "not yours" and "does not exist", so ids cannot be probed.
        return Forbidden("No such dialog on your lines")
    if refused.reason is Refusal.DIALOG_CLOSED:
        return Conflict("The dialog is finished", "dialog_closed")
    return Conflict("client_msg_id: already used by someone else", "invalid")


async def _not_appended(
    s: AsyncSession, decision: Decision, facts: DialogFacts | None, earlier: dict[str, Any] | None
) -> Outcome:
    """A resend's outcome (nothing stored), or the refusal raised."""
    if isinstance(decision, Refused):
        raise _refusal(decision)
    assert isinstance(decision, Resent) and facts is not None
    dialog = await s.get(Dialog, facts.id)
    assert dialog is not None
    return Outcome(dialog, seq=decision.seq, duplicate=True)


async def check_operator_access(ctx: Context, who: OperatorIdentity, dialog_id: int) -> Dialog:
    async with ctx.db.read() as s:
        dialog = await s.get(Dialog, dialog_id)
    if dialog is None or not works_on(who.line_ids, dialog.line_id):
        # The same answer for "not yours" and "does not exist", so ids cannot be probed.
        raise Forbidden("No such dialog on your lines")
    return dialog


async def operator_join(ctx: Context, who: OperatorIdentity, dialog_id: int) -> Dialog:
    """An operator opens a dialog to read it. Reading assigns nothing: answering, **In progress** or an explicit
    assignment does (so an operator can look into the queue without taking chats from colleagues)."""
    return await check_operator_access(ctx, who, dialog_id)


async def assign_to(
    ctx: Context, s: AsyncSession, dialog: Dialog, operator_id: int, name: str, outcome: Outcome
) -> None:
    """Make `operator_id` the dialog's responsible operator, with the notice both sides see."""
    dialog.operator_id = operator_id
    await s.execute(
        delete(DialogOperator).where(
            _dialog_operators.c.dialog_id == dialog.id,
            _dialog_operators.c.operator_id == operator_id,
        )
    )
    if dialog.status != DialogStatus.FINISHED.value:
        dialog.status = next_status(DialogStatus(dialog.status), DialogEvent.OPERATOR_JOINED).value
    text = gettext(await line_language(s, dialog), "{name} joined the chat", name=name)
    notice = await append_message(ctx, s, dialog, Author("system"), text, kind="system", code="operator_joined")
    outcome.events.append(message_event(ctx, dialog, notice, None))
    outcome.seq = notice.seq  # what the caller acks, unless it writes a later message


async def _assign(ctx: Context, s: AsyncSession, dialog: Dialog, who: OperatorIdentity, outcome: Outcome) -> None:
    await assign_to(ctx, s, dialog, who.id, who.name, outcome)


@publishes
async def operator_send(
    ctx: Context,
    who: OperatorIdentity,
    dialog_id: int,
    client_msg_id: str,
    text: str,
    file: StagedFile | None = None,
) -> Outcome:
    """An operator answers (or attaches `file`); an unassigned dialog becomes theirs."""
    kind = Kind.FILE if file else Kind.TEXT
    request = Request(Writer.OPERATOR, ctx.clock.now(), kind, client_msg_id, who.line_ids, who.id, bool(file))
    draft = Draft(request, text, dialog_id, operator_id=who.id)
    if file is None:
        written = await write_message(ctx, draft, who.name)
        if isinstance(written, Outcome):
            return written
    async with ctx.db.write() as s:
        decision, facts, earlier = await decide_in(s, draft)
        if not isinstance(decision, Append):
            return await _not_appended(s, decision, facts, earlier)
        dialog = await s.get(Dialog, dialog_id)
        assert dialog is not None
        outcome = Outcome(dialog)
        if Owed.ASSIGNMENT in decision.owes:
            await _assign(ctx, s, dialog, who, outcome)
        dialog.status = decision.status
        author = Author("operator", who.name, who.id)
        message = await append_message(ctx, s, dialog, author, text, kind=kind, client_msg_id=client_msg_id)
        attachment = await _attach(s, dialog, message, file, "operator")
        outcome.events.append(message_event(ctx, dialog, message, who.name, attachment))
        outcome.seq = message.seq
        if Owed.UNREAD_MAIL in decision.owes:
            await conversation_mail.on_operator_message(ctx, s, dialog)
    if decision.owes & {Owed.ASSIGNMENT, Owed.STATUS}:
        outcome.events[0:0] = await dialog_events(ctx, dialog)
    return outcome


@publishes
async def close_dialog(ctx: Context, who: OperatorIdentity, dialog_id: int) -> Outcome:
    await check_operator_access(ctx, who, dialog_id)
    async with ctx.db.write() as s:
        dialog = await lock_dialog(s, dialog_id)
        assert dialog is not None
        outcome = Outcome(dialog)
        if dialog.status == DialogStatus.FINISHED.value:
            outcome.duplicate = True
            outcome.seq = dialog.last_seq
            return outcome
        dialog.status = next_status(DialogStatus(dialog.status), DialogEvent.CLOSE).value
        dialog.closed_at = ctx.clock.now()
        dialog.waiting_since = None
        text = gettext(await line_language(s, dialog), "{name} closed the dialog", name=who.name)
        notice = await append_message(ctx, s, dialog, Author("system"), text, kind="system", code="dialog_closed")
        outcome.events.append(message_event(ctx, dialog, notice, None))
        outcome.seq = notice.seq
        outcome.events += await forms.sync(ctx, s, dialog)
        await conversation_mail.on_dialog_closed(ctx, s, dialog)
    outcome.events[0:0] = await dialog_events(ctx, dialog)
    return outcome


async def mark_seen(ctx: Context, dialog: Dialog, by: str, seq: int) -> bool:
    """Move the reader's mark forward (never back); once committed, both sides are told (the visitor's other tabs
    clear their unread badge too). Whether it moved."""
    column = _dialogs.c.visitor_seen_seq if by == "visitor" else _dialogs.c.operator_seen_seq
    async with ctx.db.write() as s:
        result = await s.execute(
            update(Dialog)
            .where(_dialogs.c.id == dialog.id, column < seq, _dialogs.c.last_seq >= seq)
            .values({column: seq})
        )
        assert isinstance(result, CursorResult)  # an UPDATE's result: it counts the rows changed
        moved = result.rowcount > 0
        if moved and by == "visitor":
            assert dialog.id is not None
            await conversation_mail.on_visitor_seen(ctx, s, dialog.id)
    if moved:
        event = Event.of({"type": "seen", "dialog_id": dialog.id, "by": by, "seq": seq})
        publish_all(ctx, [((line_topic(dialog.line_id), visitor_topic(dialog.visitor_id, dialog.line_id)), event)])
    return moved


def typing(ctx: Context, dialog: Dialog, by: str, active: bool, name: str | None = None) -> None:
    """Typing stores nothing: told at once, to the other side only."""
    payload: dict[str, Any] = {"type": "typing", "dialog_id": dialog.id, "from": by, "active": active}
    if by == "operator":
        payload["name"] = name
        publish_all(ctx, [((visitor_topic(dialog.visitor_id, dialog.line_id),), Event.of(payload))])
    else:
        publish_all(ctx, [((line_topic(dialog.line_id),), Event.of(payload))])


async def load_messages(
    ctx: Context,
    dialog_id: int,
    after_seq: int = 0,
    upto_seq: int | None = None,
    limit: int | None = HISTORY_LIMIT,
    *,
    audience: Audience,
) -> list[dict[str, Any]]:
    """Messages after `after_seq` (and up to `upto_seq`), oldest first; without bounds, the latest `limit`.

    `audience` has no default on purpose: every caller says who will read the result, and a visitor never gets
    a note or an internal notice, whatever the path (history, resume, filling a gap).
    """
    kinds = [k.value for k in VISITOR_KINDS] if audience is Audience.VISITOR else None
    found = await ctx.db.run_read(welcome_read.read_messages, dialog_id, after_seq, upto_seq, limit, kinds)
    return message_payloads(ctx, found)


def message_payloads(ctx: Context, found: welcome_read.Messages) -> list[dict[str, Any]]:
    """The `message` payloads of rows read by `welcome_read.read_messages`."""
    names = {"operator": None, "bot": found.bot_name}
    return [
        message_payload(
            MessageSnapshot(**row.message),
            row.operator_name if row.message["author_type"] == "operator" else names.get(row.message["author_type"]),
            file_info(ctx, AttachmentSnapshot(**row.attachment)) if row.attachment is not None else None,
        )
        for row in found.rows
    ]


async def visitor_view(ctx: Context, dialog: DialogView) -> dict[str, Any]:
    name = None
    if dialog.operator_id is not None:
        async with ctx.db.read() as s:
            operator = await s.get(Operator, dialog.operator_id)
            name = operator.name if operator else None
    return dialog_info(dialog, name)


# -- the group-committed writer --------------------------------------------------------------------------------
# Every message first goes to the one writer (storage/message_writer.py), which stores it when
# `domain.message_append.decide` says it owes nothing but its row: most of a chat. Anything else comes back with
# the decision, and the use case above does what it owes (a new dialog, an assignment, a status, forms, e-mail).


async def write_message(ctx: Context, draft: Draft, author_name: str | None) -> Outcome | Written:
    """The draft stored by the writer (or recognised as a resend, or refused): its outcome. Otherwise the
    writer's answer, for the full use case."""
    written = await ctx.db.messages.submit(draft)
    decision = written.decision
    if isinstance(decision, Refused):
        raise _refusal(decision)
    if written.dialog is None or not (written.stored or isinstance(decision, Resent)):
        return written
    # Snapshots (storage/snapshots.py): an ORM instance would cost far more to build (~0.3 ms each, measured) than
    # the whole batched write, and nothing here is written back through a session. The dialog's row also holds the
    # writer's facts (`visitor_has_email`, ...); the message's has no id, which the writer does not read back.
    dialog = DialogSnapshot.of(written.dialog)
    if isinstance(decision, Resent):
        return Outcome(dialog, seq=decision.seq, duplicate=True)
    assert written.message is not None
    message = MessageSnapshot(id=None, **written.message)
    outcome = Outcome(dialog, seq=message.seq)
    outcome.events.append(message_event(ctx, dialog, message, author_name))
    return outcome
