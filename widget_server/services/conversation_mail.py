"""When the conversation goes on by e-mail: the triggers and the hooks that feed them.

Hooks, called from where things happen, each inside the transaction of the change (so the e-mail or the timer
exists if and only if the change was committed):

- `on_operator_message` (`dialogs.operator_send`): the unread-messages timer starts, or keeps its time;
- `on_visitor_seen` (`dialogs.mark_seen`, by the visitor): seen in time, the timer is cancelled;
- `on_dialog_closed` (`dialogs.close_dialog`): a transcript to the visitor's known e-mail; the timer is moot;
- `on_visitor_left_page` / `on_visitor_returned` (the visitor WebSocket: the last page closed / a `hello`): the
  page-closed rule starts / stops;
- `on_visitor_email_set` (`visitor_contacts`): messages already unseen count from now on;
- `on_contact_form` (`forms.submit`): the transcript form sends the transcript, the offline form marks the
  request, a new e-mail from any form puts the visitor under the unread rule.

`request_transcript` is the visitor's (or an operator's) request. The rule itself is `domain/unread_mail.py`;
the timer is a durable job (`mail.unread`) whose handler, `send_unread`, decides again with the state it finds.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.domain.unread_mail import OperatorMessage, UnreadState, unread_mail_due, unread_mail_to_send
from widget_server.domain.visibility import WRITTEN_KINDS
from widget_server.errors import Conflict, NotFound, RateLimited
from widget_server.jobs import store
from widget_server.mail.addresses import normalize_email
from widget_server.realtime.events import Event
from widget_server.services import conversation_emails
from widget_server.services.context import Context
from widget_server.storage import dialog_lookup, welcome_read
from widget_server.storage.tables import (
    Dialog,
    DialogMail,
    Job,
    Message,
    OutboxEmail,
    TranscriptRequest,
    Visitor,
    table_of,
)

_dialogs = table_of(Dialog)
_messages = table_of(Message)
_outbox = table_of(OutboxEmail)
_transcript_requests = table_of(TranscriptRequest)

UNREAD_JOB = "mail.unread"
PublishList = list[tuple[tuple[str, ...], Event]]


async def _mail_row(s: AsyncSession, dialog_id: int) -> DialogMail:
    row = await s.get(DialogMail, dialog_id)
    if row is None:
        row = DialogMail(dialog_id=dialog_id)
        s.add(row)
        await s.flush()
    return row


async def _lock_dialog(s: AsyncSession, dialog_id: int) -> Dialog | None:
    result = await s.execute(select(Dialog).where(_dialogs.c.id == dialog_id).with_for_update())
    return result.scalar_one_or_none()


async def _unread_state(s: AsyncSession, dialog: Dialog, row: DialogMail) -> UnreadState:
    visitor = await s.get(Visitor, dialog.visitor_id)
    mark = max(dialog.visitor_seen_seq, row.notified_seq)
    rows = await s.execute(
        select(_messages.c.seq, _messages.c.created_at)
        .where(
            _messages.c.dialog_id == dialog.id,
            _messages.c.seq > mark,
            _messages.c.author_type == "operator",
            _messages.c.kind.in_(sorted(WRITTEN_KINDS)),
        )
        .order_by(_messages.c.seq)
    )
    return UnreadState(
        has_email=bool(visitor and visitor.email),
        visitor_seen_seq=dialog.visitor_seen_seq,
        notified_seq=row.notified_seq,
        operator_messages=[OperatorMessage(seq, created_at) for seq, created_at in rows.all()],
        page_closed_at=row.page_closed_at,
    )


async def _reschedule(ctx: Context, s: AsyncSession, dialog: Dialog, row: DialogMail) -> None:
    """Make the unread timer match the rule: at its due time, or none."""
    assert dialog.id is not None
    mail = unread_mail_due(await _unread_state(s, dialog, row))
    current: Job | None = await store.find(s, row.unread_job_key) if row.unread_job_key else None
    if mail is None:
        if current is not None:
            await store.cancel(s, current.key)
        return
    now = ctx.clock.now()
    if current is not None and current.status in (store.PENDING, store.CANCELLED):
        await store.schedule(s, UNREAD_JOB, current.key, mail.due_at, {"dialog_id": dialog.id}, now)
    else:
        # A job key fires once; one that ran (or runs now) cannot be moved, so the next batch gets its own.
        row.unread_job_key = f"mail:unread:{dialog.id}:{secrets.token_hex(6)}"
        await store.schedule(s, UNREAD_JOB, row.unread_job_key, mail.due_at, {"dialog_id": dialog.id}, now)
    if mail.due_at <= now:
        ctx.kick_jobs()


async def _visitor_has_email(s: AsyncSession, visitor_id: int) -> bool:
    visitor = await s.get(Visitor, visitor_id)
    return bool(visitor and visitor.email)


# ---- hooks -------------------------------------------------------------------------------------------------


async def on_operator_message(ctx: Context, s: AsyncSession, dialog: Dialog) -> None:
    """An operator wrote in `dialog` (locked by the caller)."""
    if not await _visitor_has_email(s, dialog.visitor_id):
        return  # the common case costs one read
    assert dialog.id is not None
    await _reschedule(ctx, s, dialog, await _mail_row(s, dialog.id))


async def on_visitor_seen(ctx: Context, s: AsyncSession, dialog_id: int) -> None:
    """The visitor's read mark moved (the caller's transaction holds the dialog's row)."""
    row = await s.get(DialogMail, dialog_id)
    if row is None or row.unread_job_key is None:
        return
    dialog = await s.get(Dialog, dialog_id)
    if dialog is not None:
        await _reschedule(ctx, s, dialog, row)


async def on_dialog_closed(ctx: Context, s: AsyncSession, dialog: Dialog) -> None:
    """The dialog ended: the transcript goes to the visitor's e-mail if it is known, and covers every message,
    so no unread-messages e-mail follows it."""
    visitor = await s.get(Visitor, dialog.visitor_id)
    if visitor is None or not visitor.email:
        return
    assert dialog.id is not None
    await _queue_transcript(ctx, s, dialog, visitor.email)
    (await _mail_row(s, dialog.id)).offline_request_at = None


async def on_visitor_left_page(ctx: Context, visitor_id: int, line_id: str) -> None:
    """The visitor's last page with this line's widget closed (in this process)."""
    # Asked together with the other pages closing at the moment: a drop of thousands of widgets at once must
    # not become thousands of reads in front of their reconnections.
    if not await ctx.db.visitor_emails.has_email(visitor_id):
        return  # most visitors: no write, no lock
    async with ctx.db.write() as s:
        dialog = await dialog_lookup.latest_on_line(s, visitor_id, line_id, open_only=True, lock=True)
        if dialog is None or dialog.id is None:
            return
        row = await _mail_row(s, dialog.id)
        row.page_closed_at = ctx.clock.now()
        await _reschedule(ctx, s, dialog, row)


async def on_visitor_returned(ctx: Context, visitor_id: int, line_id: str) -> None:
    """A page of the visitor's opened again (`hello`): the page-closed rule no longer applies."""
    await pages_reopened(ctx, await ctx.db.run_read(welcome_read.closed_page_dialogs, visitor_id, line_id))


async def pages_reopened(ctx: Context, dialog_ids: list[int]) -> None:
    """`on_visitor_returned` with the dialogs under the page-closed rule already read (the hello's one read)."""
    for dialog_id in dialog_ids:
        async with ctx.db.write() as s:
            dialog = await _lock_dialog(s, dialog_id)
            row = await s.get(DialogMail, dialog_id)
            if dialog is None or row is None:
                continue
            row.page_closed_at = None
            await _reschedule(ctx, s, dialog, row)


async def on_visitor_email_set(ctx: Context, s: AsyncSession, visitor: Visitor) -> None:
    """The visitor's e-mail became known or changed: their open dialogs follow the unread rule from now on."""
    assert visitor.id is not None
    for dialog in await dialog_lookup.open_of_visitor(s, visitor.id):
        assert dialog.id is not None
        await _reschedule(ctx, s, dialog, await _mail_row(s, dialog.id))


async def mark_offline_request(ctx: Context, s: AsyncSession, dialog_id: int) -> None:
    """The visitor left contacts in the offline form: the next answer goes out as "the answer to your request"."""
    row = await _mail_row(s, dialog_id)
    row.offline_request_at = ctx.clock.now()


# ---- triggers ----------------------------------------------------------------------------------------------


async def request_transcript(ctx: Context, dialog_id: int, email: str | None = None) -> OutboxEmail:
    """Send the conversation so far to `email` (remembered as the visitor's) or to the visitor's known e-mail.

    Asking twice for the same conversation and address queues one e-mail; a conversation that went on since then
    gets a new one.
    """
    async with ctx.db.write() as s:
        dialog = await _lock_dialog(s, dialog_id)
        if dialog is None:
            raise NotFound("No such dialog", "no_dialog")
        visitor = await s.get(Visitor, dialog.visitor_id)
        assert visitor is not None
        if email is not None:
            address = normalize_email(email)
            if visitor.email != address:
                visitor.email = address
                await on_visitor_email_set(ctx, s, visitor)
        if not visitor.email:
            raise Conflict("email: the visitor's e-mail is not known", "no_email")
        await _check_transcript_rate(ctx, s, dialog_id)
        return await _queue_transcript(ctx, s, dialog, visitor.email)


async def _queue_transcript(ctx: Context, s: AsyncSession, dialog: Dialog, email: str) -> OutboxEmail:
    """The transcript to `email`, in the caller's transaction (the dialog locked)."""
    assert dialog.id is not None
    # The occasion is "what was said so far, to this address": notices (such as "a copy was sent") do not make a
    # conversation new, so asking twice in a row, or again after the automatic copy at the end, stays one e-mail.
    said = (
        await s.execute(
            select(func.max(_messages.c.seq)).where(
                _messages.c.dialog_id == dialog.id,
                _messages.c.kind.in_(sorted(WRITTEN_KINDS)),
            )
        )
    ).scalar_one_or_none() or 0
    queued = await conversation_emails.queue_transcript(
        ctx, s, dialog.id, email, f"transcript:{dialog.id}:{said}:{email}"
    )
    assert queued is not None
    # The transcript holds every answer so far: an unread-messages e-mail about them would repeat it.
    row = await _mail_row(s, dialog.id)
    row.notified_seq = max(row.notified_seq, dialog.last_seq)
    await _reschedule(ctx, s, dialog, row)
    await s.execute(
        update(TranscriptRequest)
        .where(_transcript_requests.c.dialog_id == dialog.id, _transcript_requests.c.email == email)
        .values(status="queued")
    )
    return queued[0]


async def on_contact_form(
    ctx: Context, s: AsyncSession, dialog: Dialog, visitor: Visitor, form: str, email_before: str | None
) -> None:
    """A contact form was submitted in `dialog` (forms.submit, in its transaction, the dialog locked).

    A new e-mail puts the visitor's open dialogs under the unread rule; the transcript form sends the transcript
    now; the offline form makes the next answer "the answer to your request".
    """
    if visitor.email and visitor.email != email_before:
        await on_visitor_email_set(ctx, s, visitor)
    if not visitor.email:
        return
    if form == "transcript":
        await _check_transcript_rate(ctx, s, dialog.id or 0)
        await _queue_transcript(ctx, s, dialog, visitor.email)
    elif form == "offline" and dialog.id is not None:
        await mark_offline_request(ctx, s, dialog.id)


TRANSCRIPTS_PER_HOUR = 5


async def _check_transcript_rate(ctx: Context, s: AsyncSession, dialog_id: int) -> None:
    """Anyone in a chat can type any address: a dialog cannot be made to mail people more than a few times."""
    since = ctx.clock.now() - timedelta(hours=1)
    recent = (
        await s.execute(
            select(func.count()).where(
                _outbox.c.dialog_id == dialog_id,
                _outbox.c.kind == "transcript",
                _outbox.c.created_at >= since,
            )
        )
    ).scalar_one()
    if recent >= TRANSCRIPTS_PER_HOUR:
        raise RateLimited(f"transcript: at most {TRANSCRIPTS_PER_HOUR} an hour for a dialog", "too_many_transcripts")


async def send_unread(ctx: Context, s: AsyncSession, job: Job) -> PublishList | None:
    """The `mail.unread` job: send the unread-messages (or offline-answer) e-mail if the rule says it is due."""
    dialog = await _lock_dialog(s, int(job.payload["dialog_id"]))
    if dialog is None or dialog.id is None:
        return None
    row = await _mail_row(s, dialog.id)
    mail = unread_mail_to_send(await _unread_state(s, dialog, row), ctx.clock.now())
    visitor = await s.get(Visitor, dialog.visitor_id)
    if mail is not None and visitor is not None and visitor.email:
        kind = "offline_answer" if row.offline_request_at is not None else "unread"
        await conversation_emails.queue_unread(ctx, s, dialog.id, visitor.email, mail, kind)
        row.notified_seq = mail.last_seq
        row.offline_request_at = None
    await _reschedule(ctx, s, dialog, row)
    return None
