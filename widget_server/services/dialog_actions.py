"""What operators do to a dialog from the inbox: notes, status, take, leave, reassign, add operators, delete.

Each action checks the operator's line (and role, where it matters) first, then changes the dialog under its row
lock, writes the notice that tells the story in the dialog (visible to the visitor where it concerns them:
someone joined or left; staff-only otherwise), and returns the events to publish after the commit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.domain.dialog_state import (
    DialogEvent,
    DialogStatus,
    IllegalTransition,
    manual_event,
    next_status,
)
from widget_server.domain.message_append import Request, Writer
from widget_server.domain.permissions import Action, allowed
from widget_server.domain.timestamps import iso
from widget_server.domain.visibility import Kind
from widget_server.errors import Conflict, Forbidden, InvalidInput
from widget_server.i18n import gettext
from widget_server.jobs import store as jobs
from widget_server.realtime.events import Event, line_topic, visitor_topic
from widget_server.services import audit
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
from widget_server.services.dialogs import assign_to, check_operator_access, close_dialog, write_message
from widget_server.services.operators import OperatorIdentity
from widget_server.services.unit_of_work import publishes
from widget_server.services.uploads import file_store
from widget_server.storage import dialog_lookup
from widget_server.storage.message_writer import Draft
from widget_server.storage.tables import Attachment, Dialog, DialogOperator, Operator, OperatorLine, Reminder, table_of

_attachments = table_of(Attachment)
_dialog_operators = table_of(DialogOperator)
_operator_lines = table_of(OperatorLine)
_operators = table_of(Operator)
_reminders = table_of(Reminder)

STATUS_NAMES = {
    DialogStatus.NEW: "New",
    DialogStatus.IN_PROGRESS: "In progress",
    DialogStatus.WAITING: "Waiting for client",
    DialogStatus.FINISHED: "Finished",
}


async def _locked(s: AsyncSession, dialog_id: int) -> Dialog:
    dialog = await lock_dialog(s, dialog_id)
    if dialog is None:  # deleted between the access check and the lock
        raise Forbidden("No such dialog on your lines")
    return dialog


async def _notice(
    ctx: Context, s: AsyncSession, dialog: Dialog, outcome: Outcome, kind: Kind, code: str, text: str
) -> None:
    message = await append_message(ctx, s, dialog, Author("system"), text, kind=kind.value, code=code)
    outcome.events.append(message_event(ctx, dialog, message, None))
    outcome.seq = message.seq


@publishes
async def add_note(ctx: Context, who: OperatorIdentity, dialog_id: int, client_msg_id: str, text: str) -> Outcome:
    """A note: staff only, also in a finished dialog (a note after the fact is how a team learns). A note owes
    nothing but its row, so the one writer stores it (domain/message_append.py has the rules it follows)."""
    request = Request(Writer.OPERATOR, ctx.clock.now(), Kind.NOTE.value, client_msg_id, who.line_ids, who.id)
    written = await write_message(ctx, Draft(request, text, dialog_id, operator_id=who.id), who.name)
    assert isinstance(written, Outcome), "a note owes nothing: the writer stores it or refuses it"
    return written


@publishes
async def set_status(ctx: Context, who: OperatorIdentity, dialog_id: int, target: DialogStatus) -> Outcome:
    """The status menu and the **In progress** button. Taking an unassigned dialog makes it the operator's."""
    dialog = await check_operator_access(ctx, who, dialog_id)
    if target is DialogStatus.FINISHED:
        return await close_dialog(ctx, who, dialog_id)
    if target is DialogStatus.NEW:
        raise InvalidInput("status: a dialog goes back to new when its operators leave it", "illegal_status")
    if dialog.status == DialogStatus.FINISHED.value:
        await _check_reopenable(ctx, dialog)
    async with ctx.db.write() as s:
        dialog = await _locked(s, dialog_id)
        current = DialogStatus(dialog.status)
        try:
            event = manual_event(current, target)
        except IllegalTransition:
            raise InvalidInput(
                f"status: a {current.value} dialog cannot become {target.value}", "illegal_status"
            ) from None
        outcome = Outcome(dialog)
        if current is target:
            outcome.duplicate, outcome.seq = True, dialog.last_seq
            return outcome
        language = await line_language(s, dialog)
        if event is DialogEvent.REOPEN:
            dialog.status = next_status(current, event).value
            dialog.closed_at = None
            text = gettext(language, "{name} reopened the dialog", name=who.name)
            await _notice(ctx, s, dialog, outcome, Kind.SYSTEM, "dialog_reopened", text)
            if dialog.operator_id is None:
                await assign_to(ctx, s, dialog, who.id, who.name, outcome)
        elif dialog.operator_id is None and event is DialogEvent.TAKE:
            await assign_to(ctx, s, dialog, who.id, who.name, outcome)
        else:
            dialog.status = next_status(current, event).value
        if dialog.status != target.value:  # taking a waiting dialog: joined keeps "waiting"
            dialog.status = next_status(DialogStatus(dialog.status), event).value
        text = gettext(language, "{name} set the status: {status}", name=who.name, status=STATUS_NAMES[target])
        await _notice(ctx, s, dialog, outcome, Kind.INTERNAL, "status_changed", text)
    outcome.events[0:0] = await dialog_events(ctx, dialog)
    return outcome


async def _check_reopenable(ctx: Context, dialog: Dialog) -> None:
    async with ctx.db.read() as s:
        newer = await dialog_lookup.newer(s, dialog)
    if newer:
        raise Conflict("The visitor has started a newer dialog; continue there", "newer_dialog")


@publishes
async def leave(ctx: Context, who: OperatorIdentity, dialog_id: int) -> Outcome:
    """The operator steps out. The dialog stays with the operators still on it, or goes back to the line's queue
    (status `new`) for any operator of the line to take."""
    await check_operator_access(ctx, who, dialog_id)
    async with ctx.db.write() as s:
        dialog = await _locked(s, dialog_id)
        helpers = list(
            (
                await s.execute(
                    select(DialogOperator)
                    .where(_dialog_operators.c.dialog_id == dialog_id)
                    .order_by(_dialog_operators.c.added_at)
                )
            ).scalars()
        )
        mine = next((h for h in helpers if h.operator_id == who.id), None)
        if dialog.operator_id != who.id and mine is None:
            raise Conflict("You are not on this dialog", "not_on_dialog")
        if dialog.status == DialogStatus.FINISHED.value:
            raise Conflict("The dialog is finished", "dialog_closed")
        outcome = Outcome(dialog)
        if mine is not None:
            await s.delete(mine)
        else:
            others = [h for h in helpers if h.operator_id != who.id]
            if others:
                # The longest-serving helper becomes responsible: they know the conversation best.
                dialog.operator_id = others[0].operator_id
                await s.delete(others[0])
            else:
                dialog.operator_id = None
                dialog.status = next_status(DialogStatus(dialog.status), DialogEvent.LAST_OPERATOR_LEFT).value
        text = gettext(await line_language(s, dialog), "{name} left the chat", name=who.name)
        await _notice(ctx, s, dialog, outcome, Kind.SYSTEM, "operator_left", text)
    outcome.events[0:0] = await dialog_events(ctx, dialog)
    return outcome


ASSIGN_MODES = ("transfer", "add", "remove")


@publishes
async def assign(ctx: Context, who: OperatorIdentity, dialog_id: int, operator_id: int, mode: str) -> Outcome:
    """`transfer`: `operator_id` becomes responsible (the previous one steps out); `add`: they join beside the
    responsible one; `remove`: an added operator is taken off. The target must work on the dialog's line."""
    if mode not in ASSIGN_MODES:
        raise InvalidInput(f"mode: one of {', '.join(ASSIGN_MODES)}")
    dialog = await check_operator_access(ctx, who, dialog_id)
    async with ctx.db.write() as s:
        target = (
            await s.execute(
                select(Operator)
                .join(OperatorLine, _operator_lines.c.operator_id == _operators.c.id)
                .where(
                    _operators.c.id == operator_id,
                    _operators.c.is_active == True,  # noqa: E712
                    _operator_lines.c.line_id == dialog.line_id,
                )
            )
        ).scalar_one_or_none()
        if target is None or target.id is None:
            raise InvalidInput("operator_id: not an active operator of this dialog's line", "unknown_operator")
        dialog = await _locked(s, dialog_id)
        if dialog.status == DialogStatus.FINISHED.value and mode != "remove":
            raise Conflict("The dialog is finished", "dialog_closed")
        outcome = Outcome(dialog)
        existing = await s.get(DialogOperator, (dialog_id, operator_id))
        language = await line_language(s, dialog)
        if mode == "transfer":
            if dialog.operator_id == operator_id:
                outcome.duplicate, outcome.seq = True, dialog.last_seq
                return outcome
            await assign_to(ctx, s, dialog, target.id, target.name, outcome)
            text = gettext(language, "{name} handed the chat to {other}", name=who.name, other=target.name)
            await _notice(ctx, s, dialog, outcome, Kind.INTERNAL, "operator_transferred", text)
        elif mode == "add":
            if dialog.operator_id == operator_id or existing is not None:
                outcome.duplicate, outcome.seq = True, dialog.last_seq
                return outcome
            if dialog.operator_id is None:
                await assign_to(ctx, s, dialog, target.id, target.name, outcome)
            else:
                s.add(DialogOperator(dialog_id=dialog_id, operator_id=target.id, added_at=ctx.clock.now()))
                text = gettext(language, "{name} joined the chat", name=target.name)
                await _notice(ctx, s, dialog, outcome, Kind.SYSTEM, "operator_joined", text)
        else:
            if dialog.operator_id == operator_id:
                # Removing the responsible one would leave the chat without an owner while helpers stay.
                raise Conflict("They are responsible for this chat; transfer the chat instead", "is_responsible")
            if existing is None:
                outcome.duplicate, outcome.seq = True, dialog.last_seq
                return outcome
            await s.delete(existing)
            text = gettext(language, "{name} left the chat", name=target.name)
            await _notice(ctx, s, dialog, outcome, Kind.SYSTEM, "operator_left", text)
    outcome.events[0:0] = await dialog_events(ctx, dialog)
    return outcome


async def delete_dialog(ctx: Context, who: OperatorIdentity, dialog_id: int) -> dict[str, object]:
    """Admins only: the dialog, its messages, notes, files, links and reminders are gone; the audit log keeps
    who deleted which dialog and when (never its content)."""
    if not allowed(who.role, Action.DELETE_DIALOG):
        raise Forbidden("Only admins can delete a dialog")
    await check_operator_access(ctx, who, dialog_id)
    async with ctx.db.write() as s:
        dialog = await _locked(s, dialog_id)
        keys = list(
            (await s.execute(select(_attachments.c.storage_key).where(_attachments.c.dialog_id == dialog_id))).scalars()
        )
        reminder_ids = list(
            (await s.execute(select(_reminders.c.id).where(_reminders.c.dialog_id == dialog_id))).scalars()
        )
        for reminder_id in reminder_ids:
            await jobs.cancel(s, f"reminder:{reminder_id}")
        details = {
            "number": dialog.number,
            "line_id": dialog.line_id,
            "visitor_id": dialog.visitor_id,
            "status": dialog.status,
            "messages": dialog.last_seq,
            "files": len(keys),
            "created_at": iso(dialog.created_at),
        }
        await audit.record(ctx, s, who, "dialog.delete", "dialog", str(dialog_id), details)
        # The database cascades to messages, files, links, reminders and added operators (and on SQLite the
        # cascade fires the full-text triggers, so the words leave the search index too).
        await s.delete(dialog)
    store = file_store(ctx)
    for key in keys:
        await store.delete(key)
    frame = Event.of({"type": "dialog_deleted", "dialog_id": dialog_id})
    ctx.events.publish(line_topic(dialog.line_id), frame)
    ctx.events.publish(visitor_topic(dialog.visitor_id, dialog.line_id), frame)
    return details
