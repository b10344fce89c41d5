"""Writing into a dialog whose row the caller's transaction holds: a message through the one writer, and the
events it owes once committed. The building blocks of every use case that adds to a dialog (dialogs, forms, links,
e-mail outcomes, jobs), below all of them, so none of them imports another to write a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.domain.dialog_state import OPEN_STATUSES
from widget_server.domain.message_append import Request, Writer, advance
from widget_server.domain.visibility import Audience, visible_to
from widget_server.realtime.events import Event, line_topic, visitor_topic
from widget_server.services.context import Context
from widget_server.services.file_links import file_info
from widget_server.services.payloads import dialog_info, message_payload
from widget_server.services.summaries import D, page_of, read_summaries
from widget_server.storage.message_writer import Draft, insert_message, message_row
from widget_server.storage.snapshots import AttachmentView, DialogView, MessageView
from widget_server.storage.tables import Dialog, Message, OpenLine, Visitor, table_of

_dialogs = table_of(Dialog)


@dataclass(frozen=True)
class Author:
    type: str  # visitor | operator | bot | system
    name: str | None = None
    operator_id: int | None = None


@dataclass
class Outcome:
    """What a use case changed, and the events to publish once it is committed."""

    dialog: DialogView
    seq: int = 0
    duplicate: bool = False
    created: bool = False
    events: list[tuple[tuple[str, ...], Event]] = field(default_factory=list)
    visitor: Visitor | None = None  # read when the use case created the dialog


async def lock_dialog(s: AsyncSession, dialog_id: int) -> Dialog | None:
    result = await s.execute(select(Dialog).where(_dialogs.c.id == dialog_id).with_for_update())
    return result.scalar_one_or_none()


async def append_message(
    ctx: Context,
    s: AsyncSession,
    dialog: Dialog,
    author: Author,
    body: str,
    *,
    kind: str = "text",
    code: str | None = None,
    client_msg_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> Message:
    """Store a message in the caller's transaction, which holds the dialog's row: the writer's row, and the
    dialog moved as `domain.message_append.advance` says (the rule every message follows)."""
    assert dialog.id is not None
    move = advance(dialog.last_seq, dialog.waiting_since, author.type, kind, ctx.clock.now())
    dialog.last_seq, dialog.updated_at, dialog.waiting_since = move.seq, move.updated_at, move.waiting_since
    request = Request(Writer(author.type), move.updated_at, kind, client_msg_id, operator_id=author.operator_id)
    draft = Draft(request, body, dialog.id, operator_id=author.operator_id, code=code, data=data)
    row = message_row(draft, dialog.id, move)
    return Message(id=await insert_message(s, row), **row)


def message_event(
    ctx: Context,
    dialog: DialogView,
    message: MessageView,
    author_name: str | None,
    attachment: AttachmentView | None = None,
) -> tuple[tuple[str, ...], Event]:
    topics: tuple[str, ...] = (line_topic(dialog.line_id),)
    if visible_to(Audience.VISITOR, message.kind):
        topics += (visitor_topic(dialog.visitor_id, dialog.line_id),)
    file = file_info(ctx, attachment) if attachment is not None else None
    return topics, Event.of(message_payload(message, author_name, file), message.dialog_id, message.seq)


async def add_system_message(
    ctx: Context, s: AsyncSession, dialog_id: int, code: str, text: str
) -> list[tuple[tuple[str, ...], Event]]:
    """A notice in the dialog (e.g. `transcript_sent`) in the caller's transaction; returns its event."""
    dialog = await lock_dialog(s, dialog_id)
    if dialog is None:
        return []
    notice = await append_message(ctx, s, dialog, Author("system"), text, kind="system", code=code)
    return [message_event(ctx, dialog, notice, None)]


async def line_language(s: AsyncSession, dialog: Dialog) -> str:
    line = await s.get(OpenLine, dialog.line_id)
    return line.language if line else "en"


async def summaries(
    ctx: Context,
    dialog_ids: list[int] | None = None,
    line_ids: frozenset[str] | None = None,
    open_only: bool = True,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Dialog summaries for the operator's list, newest activity first."""
    conditions: list[Any] = []
    if dialog_ids is not None:
        conditions.append(D.id.in_(dialog_ids))
    if line_ids is not None:
        conditions.append(D.line_id.in_(line_ids))
    if open_only:
        conditions.append(D.status.in_([st.value for st in OPEN_STATUSES]))
    async with ctx.db.connect() as conn:
        return await read_summaries(conn, page_of(conditions, limit))


async def dialog_events(ctx: Context, dialog: DialogView) -> list[tuple[tuple[str, ...], Event]]:
    """A `dialog` frame for each audience: the summary for operators, the dialog info for the visitor."""
    assert dialog.id is not None
    summary = (await summaries(ctx, dialog_ids=[dialog.id], open_only=False))[0]
    operator = summary["operator"]
    visitor_frame = {"type": "dialog", "dialog": dialog_info(dialog, operator["name"] if operator else None)}
    return [
        ((line_topic(dialog.line_id),), Event.of({"type": "dialog", "dialog": summary})),
        ((visitor_topic(dialog.visitor_id, dialog.line_id),), Event.of(visitor_frame)),
    ]


async def add_bot_message(
    ctx: Context, s: AsyncSession, dialog_id: int, text: str
) -> list[tuple[tuple[str, ...], Event]]:
    """Append a message in the line's name inside the caller's transaction (a job's); the events to publish."""
    dialog = await lock_dialog(s, dialog_id)
    if dialog is None:
        return []
    line = await s.get(OpenLine, dialog.line_id)
    name = line.name if line else None
    message = await append_message(ctx, s, dialog, Author("bot", name), text)
    return [message_event(ctx, dialog, message, name)]
