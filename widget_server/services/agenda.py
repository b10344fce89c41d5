"""The operator's agenda: tasks ("my tasks"), calendar events and reminders, each optionally about a dialog.

A reminder is a row plus a durable job (`reminder:<id>`) due at its time. The job marks the reminder fired and
tells the operator's connections (`reminder` frame on their own topic). An operator who is not connected then
finds it in `ready` when they come back, until they dismiss it: a restart or a closed laptop loses nothing, and
the job's exactly-once run means one notification per reminder.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.domain.agenda import event_time_problem, reminder_time_problem
from widget_server.domain.permissions import works_on
from widget_server.domain.timestamps import iso
from widget_server.errors import InvalidInput, NotFound
from widget_server.jobs import store as jobs
from widget_server.realtime.events import Event, operator_topic
from widget_server.services.context import Context
from widget_server.services.dialogs import check_operator_access
from widget_server.services.operators import OperatorIdentity
from widget_server.storage.tables import CalendarEvent, Dialog, Job, Operator, OperatorLine, Reminder, Task, table_of

_calendar_events = table_of(CalendarEvent)
_dialogs = table_of(Dialog)
_operator_lines = table_of(OperatorLine)
_operators = table_of(Operator)
_reminders = table_of(Reminder)
_tasks = table_of(Task)

REMINDER_JOB = "reminder"


def _when(value: datetime | None) -> str | None:
    return iso(value) if value else None


async def _dialog_number(s: AsyncSession, dialog_id: int | None) -> int | None:
    if dialog_id is None:
        return None
    dialog = await s.get(Dialog, dialog_id)
    return dialog.number if dialog else None


# -- tasks --------------------------------------------------------------------------------------------------


def task_public(task: Task, number: int | None = None) -> dict[str, Any]:
    return {
        "id": task.id,
        "title": task.title,
        "assignee_id": task.assignee_id,
        "created_by": task.created_by,
        "dialog": None if task.dialog_id is None else {"id": task.dialog_id, "number": number},
        "due_at": _when(task.due_at),
        "done": task.done_at is not None,
        "done_at": _when(task.done_at),
        "created_at": iso(task.created_at),
    }


async def _check_assignee(ctx: Context, who: OperatorIdentity, assignee_id: int, dialog: Dialog | None) -> None:
    if assignee_id == who.id:
        return
    async with ctx.db.read() as s:
        query = select(_operators.c.id).where(_operators.c.id == assignee_id, _operators.c.is_active == True)  # noqa: E712
        lines = who.line_ids if dialog is None else frozenset({dialog.line_id})
        query = query.join(OperatorLine, _operator_lines.c.operator_id == _operators.c.id).where(
            _operator_lines.c.line_id.in_(lines)
        )
        if (await s.execute(query.limit(1))).scalar_one_or_none() is None:
            raise InvalidInput("assignee_id: not an active operator of your lines", "unknown_operator")


async def create_task(
    ctx: Context,
    who: OperatorIdentity,
    title: str,
    due_at: datetime | None = None,
    dialog_id: int | None = None,
    assignee_id: int | None = None,
) -> dict[str, Any]:
    dialog = await check_operator_access(ctx, who, dialog_id) if dialog_id is not None else None
    assignee = assignee_id or who.id
    await _check_assignee(ctx, who, assignee, dialog)
    task = Task(
        title=title.strip(),
        assignee_id=assignee,
        created_by=who.id,
        dialog_id=dialog_id,
        due_at=due_at,
        created_at=ctx.clock.now(),
    )
    async with ctx.db.write() as s:
        s.add(task)
    return task_public(task, dialog.number if dialog else None)


async def my_tasks(ctx: Context, who: OperatorIdentity, include_done: bool = False) -> list[dict[str, Any]]:
    async with ctx.db.read() as s:
        query = (
            select(Task, _dialogs.c.number)
            .outerjoin(Dialog, _dialogs.c.id == _tasks.c.dialog_id)
            .where(_tasks.c.assignee_id == who.id)
        )
        if not include_done:
            query = query.where(_tasks.c.done_at.is_(None))
        rows = await s.execute(
            query.order_by(_tasks.c.done_at.is_not(None), _tasks.c.due_at.is_(None), _tasks.c.due_at, _tasks.c.id)
        )
        return [task_public(task, number) for task, number in rows.all()]


async def set_task_done(ctx: Context, who: OperatorIdentity, task_id: int, done: bool) -> dict[str, Any]:
    async with ctx.db.write() as s:
        task = await s.get(Task, task_id)
        if task is None or who.id not in (task.assignee_id, task.created_by):
            raise NotFound("No such task of yours", "unknown_task")
        task.done_at = (task.done_at or ctx.clock.now()) if done else None
        number = await _dialog_number(s, task.dialog_id)
    return task_public(task, number)


# -- calendar events ------------------------------------------------------------------------------------------


def event_public(event: CalendarEvent, number: int | None = None) -> dict[str, Any]:
    return {
        "id": event.id,
        "title": event.title,
        "operator_id": event.operator_id,
        "dialog": None if event.dialog_id is None else {"id": event.dialog_id, "number": number},
        "starts_at": iso(event.starts_at),
        "ends_at": _when(event.ends_at),
        "created_at": iso(event.created_at),
    }


async def create_event(
    ctx: Context,
    who: OperatorIdentity,
    title: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    dialog_id: int | None = None,
) -> dict[str, Any]:
    problem = event_time_problem(starts_at, ends_at, ctx.clock.now())
    if problem:
        raise InvalidInput(problem)
    dialog = await check_operator_access(ctx, who, dialog_id) if dialog_id is not None else None
    event = CalendarEvent(
        title=title.strip(),
        operator_id=who.id,
        dialog_id=dialog_id,
        starts_at=starts_at,
        ends_at=ends_at,
        created_at=ctx.clock.now(),
    )
    async with ctx.db.write() as s:
        s.add(event)
    return event_public(event, dialog.number if dialog else None)


async def my_events(ctx: Context, who: OperatorIdentity, since: datetime | None = None) -> list[dict[str, Any]]:
    async with ctx.db.read() as s:
        query = (
            select(CalendarEvent, _dialogs.c.number)
            .outerjoin(Dialog, _dialogs.c.id == _calendar_events.c.dialog_id)
            .where(_calendar_events.c.operator_id == who.id)
        )
        if since is not None:
            query = query.where(_calendar_events.c.starts_at >= since)
        rows = await s.execute(query.order_by(_calendar_events.c.starts_at).limit(500))
        return [event_public(event, number) for event, number in rows.all()]


# -- reminders ------------------------------------------------------------------------------------------------


def reminder_public(reminder: Reminder, number: int | None = None, reachable: bool = True) -> dict[str, Any]:
    """`reachable`: the operator still works on the dialog's line; if not, the reminder is theirs but the dialog
    is not, so no link to it is given."""
    return {
        "id": reminder.id,
        "text": reminder.text,
        "dialog": None if reminder.dialog_id is None or not reachable else {"id": reminder.dialog_id, "number": number},
        "remind_at": iso(reminder.remind_at),
        "fired_at": _when(reminder.fired_at),
        "dismissed_at": _when(reminder.dismissed_at),
        "created_at": iso(reminder.created_at),
    }


async def create_reminder(
    ctx: Context, who: OperatorIdentity, text: str, remind_at: datetime, dialog_id: int | None = None
) -> dict[str, Any]:
    now = ctx.clock.now()
    problem = reminder_time_problem(remind_at, now)
    if problem:
        raise InvalidInput(problem)
    dialog = await check_operator_access(ctx, who, dialog_id) if dialog_id is not None else None
    reminder = Reminder(operator_id=who.id, dialog_id=dialog_id, text=text.strip(), remind_at=remind_at, created_at=now)
    async with ctx.db.write() as s:
        s.add(reminder)
        await s.flush()
        # The job is written in the same transaction: a reminder exists if and only if it will fire.
        await jobs.schedule(s, REMINDER_JOB, f"reminder:{reminder.id}", remind_at, {"reminder_id": reminder.id}, now)
    if remind_at <= now:
        ctx.kick_jobs()
    return reminder_public(reminder, dialog.number if dialog else None)


async def my_reminders(ctx: Context, who: OperatorIdentity) -> list[dict[str, Any]]:
    """Pending reminders and fired ones not yet dismissed, soonest first."""
    async with ctx.db.read() as s:
        rows = await s.execute(
            select(Reminder, _dialogs.c.number, _dialogs.c.line_id)
            .outerjoin(Dialog, _dialogs.c.id == _reminders.c.dialog_id)
            .where(_reminders.c.operator_id == who.id, _reminders.c.dismissed_at.is_(None))
            .order_by(_reminders.c.remind_at, _reminders.c.id)
        )
        return [
            reminder_public(r, number, line_id is not None and works_on(who.line_ids, line_id))
            for r, number, line_id in rows.all()
        ]


async def fired_reminders(ctx: Context, who: OperatorIdentity) -> list[dict[str, Any]]:
    return [r for r in await my_reminders(ctx, who) if r["fired_at"]]


async def dismiss_reminder(ctx: Context, who: OperatorIdentity, reminder_id: int) -> dict[str, Any]:
    async with ctx.db.write() as s:
        reminder = await s.get(Reminder, reminder_id)
        if reminder is None or reminder.operator_id != who.id:
            raise NotFound("No such reminder of yours", "unknown_reminder")
        if reminder.dismissed_at is None:
            reminder.dismissed_at = ctx.clock.now()
        if reminder.fired_at is None:  # dismissed before its time: it will not fire
            await jobs.cancel(s, f"reminder:{reminder.id}")
        dialog = await s.get(Dialog, reminder.dialog_id) if reminder.dialog_id is not None else None
    return reminder_public(
        reminder, dialog.number if dialog else None, dialog is not None and works_on(who.line_ids, dialog.line_id)
    )


async def fire_reminder(ctx: Context, s: AsyncSession, job: Job) -> list[tuple[tuple[str, ...], Event]] | None:
    """Job handler: runs once per reminder, in the job's transaction."""
    reminder = await s.get(Reminder, int(job.payload["reminder_id"]), with_for_update=True)
    if reminder is None or reminder.fired_at is not None or reminder.dismissed_at is not None:
        return None  # deleted with its dialog, or dismissed in advance
    reminder.fired_at = ctx.clock.now()
    dialog = await s.get(Dialog, reminder.dialog_id) if reminder.dialog_id is not None else None
    # Read now, not when it was set: an operator taken off the dialog's line since gets the reminder, not the dialog.
    reachable = dialog is not None and await s.get(OperatorLine, (reminder.operator_id, dialog.line_id)) is not None
    payload = reminder_public(reminder, dialog.number if dialog else None, reachable)
    return [((operator_topic(reminder.operator_id),), Event.of({"type": "reminder", "reminder": payload}))]
