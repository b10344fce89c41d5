"""The three e-mails of a conversation, built from the database in the caller's transaction and queued.

`transcript` (the whole conversation), `unread` (the visitor's question and the operator's unseen answers, with
a link back) and `offline_answer` (the same, for a visitor who left contacts in the offline form). Each is
rendered in the line's language and time zone and written to the outbox with a key naming its occasion, so
that one occasion never makes two e-mails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.config import Settings
from widget_server.domain.mail_content import (
    ATTACHMENT_MAX_CHARS,
    MailMessage,
    cut_transcript,
    unread_excerpt,
    visible,
)
from widget_server.domain.origins import origin_allowed
from widget_server.domain.resume_link import make_resume_token
from widget_server.domain.text import single_line
from widget_server.domain.unread_mail import UnreadMail
from widget_server.domain.visibility import VISITOR_KINDS
from widget_server.i18n import gettext, normalize_language
from widget_server.mail import outbox
from widget_server.mail.addresses import sender_address
from widget_server.mail.compose import Attachment, Envelope, dialog_thread_id, new_message_id
from widget_server.mail.render import render_email, render_part
from widget_server.services.context import Context
from widget_server.storage.snapshots import LineView
from widget_server.storage.tables import Dialog, Message, OpenLine, Operator, OutboxEmail, Visitor, table_of

_messages = table_of(Message)
_operators = table_of(Operator)

LINK_FRAGMENT = "openline"


@dataclass
class DialogData:
    line: LineView
    dialog: Dialog
    visitor: Visitor
    messages: list[MailMessage]


async def load_dialog(s: AsyncSession, dialog_id: int, after_seq: int = 0) -> DialogData | None:
    dialog = await s.get(Dialog, dialog_id)
    if dialog is None:
        return None
    line = await s.get(OpenLine, dialog.line_id)
    visitor = await s.get(Visitor, dialog.visitor_id)
    assert line is not None and visitor is not None
    rows = await s.execute(
        select(Message, _operators.c.name)
        .outerjoin(Operator, _operators.c.id == _messages.c.operator_id)
        .where(
            _messages.c.dialog_id == dialog_id,
            _messages.c.seq > after_seq,
            # A visitor reads this: never a note or a staff-only notice (domain/visibility.py).
            _messages.c.kind.in_(sorted(VISITOR_KINDS)),
        )
        .order_by(_messages.c.seq)
    )
    names = {"bot": single_line(line.name, 200), "visitor": visitor.name and single_line(visitor.name, 200)}
    messages = [
        MailMessage(
            seq=m.seq,
            kind=m.kind,
            author_type=m.author_type,
            author_name=single_line(operator_name or "", 200) or None
            if m.author_type == "operator"
            else names.get(m.author_type),
            text=m.body,
            created_at=m.created_at,
        )
        for m, operator_name in rows.all()
    ]
    return DialogData(line=line, dialog=dialog, visitor=visitor, messages=messages)


def resume_url(settings: Settings, line: LineView, dialog: Dialog, now: datetime) -> tuple[str, datetime] | None:
    """The link back: the page the widget was on, with a signed token in the fragment; and when it expires.

    The page comes from the visitor's browser, so it is used only when it is on one of the line's own origins;
    otherwise the link goes to the line's first origin. A fragment is never sent to the site's server, so the
    token stays out of its logs.
    """
    base: str | None = None
    if dialog.page_url and origin_allowed(dialog.page_url, line.allowed_origins):
        base = dialog.page_url
    if base is None and line.allowed_origins:
        base = line.allowed_origins[0] + "/"
    if base is None:
        return None
    assert dialog.id is not None
    token = make_resume_token(settings.secret, line.id, dialog.id, now)
    expires = int(token.split(".")[1])
    parts = urlsplit(base)
    url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, f"{LINK_FRAGMENT}={token}"))
    return url, datetime.fromtimestamp(expires, now.tzinfo)


def _envelope(
    ctx: Context, data: DialogData, kind: str, to: str, subject: str, attachments: list[Attachment]
) -> Envelope:
    sender = sender_address(ctx.settings.mail_from)
    assert data.dialog.id is not None
    return Envelope(
        sender=sender,
        sender_name=data.line.name,
        to=to,
        subject=subject,
        language=normalize_language(data.line.language),
        message_id=new_message_id(kind, sender),
        date=ctx.clock.now(),
        thread_id=dialog_thread_id(ctx.settings.secret, data.dialog.id, sender),
        attachments=attachments,
    )


def _common(data: DialogData) -> dict[str, object]:
    # Names are shown on one line: whatever an administrator or a form let through, a name never breaks the layout.
    return {
        "line_name": single_line(data.line.name, 200),
        "number": data.dialog.number,
        "visitor_name": single_line(data.visitor.name, 200) if data.visitor.name else None,
    }


def contact_answers(visitor: Visitor) -> dict[str, str | None]:
    """The contacts the visitor gave, for the transcript (a phone appears once the forms store one)."""
    return {"name": visitor.name, "email": visitor.email, "phone": getattr(visitor, "phone", None)}


async def queue_transcript(
    ctx: Context, s: AsyncSession, dialog_id: int, to: str, dedupe_key: str
) -> tuple[OutboxEmail, bool] | None:
    data = await load_dialog(s, dialog_id)
    if data is None:
        return None
    line, lang, tz = data.line, data.line.language, data.line.time_zone
    cut = cut_transcript(data.messages)
    attachments: list[Attachment] = []
    filename = f"dialog-{data.dialog.number}.txt"
    if cut.needs_attachment:
        everything = render_part(
            "_messages.txt", lang, tz, messages=visible(data.messages), line_name=single_line(line.name, 200)
        )
        if len(everything) > ATTACHMENT_MAX_CHARS:
            note = gettext(lang, "[The conversation is longer; this copy was cut.]")
            everything = everything[:ATTACHMENT_MAX_CHARS] + "\n\n" + note + "\n"
        attachments.append(Attachment(filename, everything))
    rendered = render_email(
        "transcript",
        lang,
        tz,
        **_common(data),
        messages=cut.in_body,
        left_out=cut.left_out,
        attachment_name=filename,
        started_at=data.dialog.created_at,
        contacts={
            "name": data.visitor.name,
            "email": data.visitor.email,
            "phone": getattr(data.visitor, "phone", None),
        },
    )
    envelope = _envelope(ctx, data, "transcript", to, rendered.subject, attachments)
    return await outbox.enqueue(
        s,
        kind="transcript",
        line_id=line.id,
        dialog_id=dialog_id,
        envelope=envelope,
        rendered=rendered,
        dedupe_key=dedupe_key,
        now=ctx.clock.now(),
    )


async def queue_unread(
    ctx: Context, s: AsyncSession, dialog_id: int, to: str, mail: UnreadMail, kind: str
) -> tuple[OutboxEmail, bool] | None:
    """`kind` is `unread` or `offline_answer`: the same content, told differently."""
    data = await load_dialog(s, dialog_id)
    if data is None:
        return None
    now = ctx.clock.now()
    link = resume_url(ctx.settings, data.line, data.dialog, now)
    rendered = render_email(
        kind,
        data.line.language,
        data.line.time_zone,
        **_common(data),
        messages=unread_excerpt(data.messages, mail.first_seq, mail.last_seq),
        count=mail.count,
        link=link[0] if link else None,
        link_expires_at=link[1] if link else None,
    )
    envelope = _envelope(ctx, data, kind, to, rendered.subject, [])
    return await outbox.enqueue(
        s,
        kind=kind,
        line_id=data.line.id,
        dialog_id=dialog_id,
        envelope=envelope,
        rendered=rendered,
        dedupe_key=f"unread:{dialog_id}:{mail.last_seq}",
        now=now,
    )
