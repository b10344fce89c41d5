"""Contact forms in a dialog: when they appear (durable jobs), what the visitor sends, and where it goes.

The timing rules are `domain/form_schedule.py`. After every change that may move them (a dialog starts, the
visitor writes, the dialog ends, a form is sent) `sync` asks the domain for each form's due time and schedules,
moves or cancels the job `form:<kind>:<dialog id>` in the same transaction. The job's handler asks again when it
fires, so a form that became moot is not shown, and creates the form: a `dialog_forms` row (re-sent on every
reconnect while open) and a `form.show` frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.crm.builtin import BuiltinCrm
from widget_server.crm.interface import ChatContact
from widget_server.domain.contact_fields import (
    Bad,
    Problem,
    clean_comment,
    clean_email,
    clean_name,
    clean_phone,
    region_for,
)
from widget_server.domain.contact_merge import ContactData
from widget_server.domain.dialog_state import DialogStatus
from widget_server.domain.form_schedule import REPLACES, DialogFacts, FormKind, KnownContact, schedule, show_now
from widget_server.errors import Conflict, Forbidden, FormRejected
from widget_server.i18n import gettext
from widget_server.jobs import store
from widget_server.realtime.events import Event, visitor_topic
from widget_server.services import conversation_mail, presence
from widget_server.services.context import Context
from widget_server.services.dialog_messages import Author, append_message, dialog_events, lock_dialog, message_event
from widget_server.services.form_texts import (
    STEP_CONTACTS,
    STEP_NAME,
    card_text,
    form_view,
    problem_text,
    rating_text,
)
from widget_server.services.unit_of_work import publishes
from widget_server.storage import dialog_lookup
from widget_server.storage.snapshots import FormView, LineView, VisitorContact, VisitorView
from widget_server.storage.tables import Dialog, DialogForm, Job, OpenLine, TranscriptRequest, Visitor, table_of

_dialog_forms = table_of(DialogForm)
_jobs = table_of(Job)
_transcript_requests = table_of(TranscriptRequest)

FORM_JOB = "form"
OPEN, COMPLETED, DISMISSED, WITHDRAWN = "open", "completed", "dismissed", "withdrawn"

Events = list[tuple[tuple[str, ...], Event]]


@dataclass
class FormOutcome:
    form_id: int | None
    dialog_id: int
    duplicate: bool = False
    events: Events = field(default_factory=list)


def job_key(kind: FormKind, dialog_id: int) -> str:
    return f"form:{kind.value}:{dialog_id}"


# ---- facts and scheduling ----------------------------------------------------------------------


async def _forms_of(s: AsyncSession, dialog_id: int) -> dict[FormKind, DialogForm]:
    rows = await s.execute(select(DialogForm).where(_dialog_forms.c.dialog_id == dialog_id))
    return {FormKind(f.kind): f for f in rows.scalars()}


async def _jobs_of(s: AsyncSession, dialog_id: int) -> dict[str, Job]:
    keys = [job_key(kind, dialog_id) for kind in FormKind]
    return {j.key: j for j in (await s.execute(select(Job).where(_jobs.c.key.in_(keys)))).scalars()}


Parties = tuple[LineView, VisitorView]


async def _parties(s: AsyncSession, dialog: Dialog) -> Parties:
    line = await s.get(OpenLine, dialog.line_id)
    visitor = await s.get(Visitor, dialog.visitor_id)
    assert line is not None and visitor is not None
    return line, visitor


async def _facts(
    s: AsyncSession,
    dialog: Dialog,
    parties: Parties,
    jobs: dict[str, Job],
    forms: dict[FormKind, DialogForm],
    unanswered_at: datetime | None = None,
    fresh: bool = False,
) -> DialogFacts:
    assert dialog.id is not None
    line, visitor = parties
    finished = dialog.status == DialogStatus.FINISHED.value
    introduced = False
    if not finished and FormKind.INTRO not in forms and visitor.name:
        query = (
            select(_dialog_forms.c.id)
            .where(
                _dialog_forms.c.visitor_id == dialog.visitor_id,
                _dialog_forms.c.dialog_id != dialog.id,
                _dialog_forms.c.kind.in_([FormKind.INTRO.value, FormKind.OFFLINE.value]),
                _dialog_forms.c.status.in_([COMPLETED, DISMISSED]),
            )
            .limit(1)
        )
        introduced = (await s.execute(query)).first() is not None
    newer = False
    if not fresh:
        newer = await dialog_lookup.newer(s, dialog)
    transcript = forms.get(FormKind.TRANSCRIPT)
    if unanswered_at is None:
        pending = jobs.get(job_key(FormKind.OFFLINE, dialog.id))
        if pending is not None and pending.status == store.PENDING:
            unanswered_at = pending.due_at
    return DialogFacts(
        started_at=dialog.created_at,
        ended_at=(dialog.closed_at or dialog.updated_at) if finished else None,
        superseded=newer,
        rating_enabled=bool(line.settings.get("rating_enabled")),
        rated_at=dialog.rated_at,
        known=KnownContact(bool(visitor.name), bool(visitor.email), bool(visitor.phone)),
        introduced=introduced,
        # The icon may show the transcript form any time; only its automatic appearance counts here (or an open one).
        shown=frozenset(kind for kind, form in forms.items() if form.auto or form.status == OPEN),
        transcript_requested=transcript is not None and transcript.status == COMPLETED,
        unanswered_at=unanswered_at,
    )


async def sync(
    ctx: Context,
    s: AsyncSession,
    dialog: Dialog,
    unanswered_at: datetime | None = None,
    show_due: bool = True,
    fresh: bool = False,
    parties: Parties | None = None,
) -> Events:
    """Bring the dialog's form jobs in line with the rules; returns the frames of forms shown or withdrawn.

    A form due right now (offline, rating) is shown in this transaction rather than through a job: it is as
    durable (its row is committed with the change that made it due) and reaches the visitor without a detour.
    `fresh`: the dialog was created in this transaction, so it has no forms, jobs or newer dialog yet; the caller
    then passes the line and visitor it holds (`parties`), as this runs while the new dialog's number is locked.
    """
    assert dialog.id is not None
    jobs = {} if fresh else await _jobs_of(s, dialog.id)
    forms = {} if fresh else await _forms_of(s, dialog.id)
    parties = parties or await _parties(s, dialog)
    facts = await _facts(s, dialog, parties, jobs, forms, unanswered_at, fresh)
    now = ctx.clock.now()
    plan = schedule(facts)
    running = {k for k in FormKind if (j := jobs.get(job_key(k, dialog.id))) is not None and j.status == store.RUNNING}
    show = [k for k, due in plan.items() if show_due and due is not None and due <= now and k not in running]
    if show:
        # What is shown now can make other forms moot (the offline form replaces the intro form).
        plan = schedule(replace(facts, shown=facts.shown | frozenset(show)))
    due_now = False
    for kind, due in plan.items():
        key = job_key(kind, dialog.id)
        job = jobs.get(key)
        if due is None:
            if job is not None and job.status == store.PENDING:
                await store.cancel(s, key)
        elif fresh:
            s.add(
                Job(
                    kind=FORM_JOB,
                    key=key,
                    payload={"dialog_id": dialog.id, "kind": kind.value},
                    status=store.PENDING,
                    due_at=due,
                    created_at=now,
                )
            )
            due_now = due_now or due <= now
        elif job is None or (job.status == store.CANCELLED or (job.status == store.PENDING and job.due_at != due)):
            await store.schedule(s, FORM_JOB, key, due, {"dialog_id": dialog.id, "kind": kind.value}, now)
            due_now = due_now or due <= now
    if due_now:
        ctx.kick_jobs()
    events: Events = []
    for kind in show:
        events += await _create_form(s, dialog, kind, now, forms, parties)
    rating = forms.get(FormKind.RATING)
    if facts.superseded and rating is not None and rating.status == OPEN:
        # The visitor went on in a newer dialog: asking to rate the old one would only confuse.
        events.append(_close(rating, WITHDRAWN, now, dialog.line_id))
    return events


async def dialog_started(
    ctx: Context, s: AsyncSession, dialog: Dialog, parties: Parties, unanswered_at: datetime | None = None
) -> Events:
    """A dialog began (with its greeting): the intro form's clock starts; an earlier dialog is superseded."""
    events = await sync(ctx, s, dialog, unanswered_at, fresh=True, parties=parties)
    previous = await dialog_lookup.previous(s, dialog)
    if previous is not None:
        events += await sync(ctx, s, previous)
    return events


async def visitor_wrote(ctx: Context, s: AsyncSession, dialog: Dialog, started: Parties | None = None) -> Events:
    """Nobody assigned yet: if no operator of the line can answer, the offline form is due now.

    A message changes nothing else about the forms, so in an assigned dialog (or once the offline form has
    appeared) this costs no query at all, or one.
    """
    assert dialog.id is not None
    unanswered_at = None
    if dialog.operator_id is None:
        offline_shown = False
        if started is None:
            query = select(_dialog_forms.c.id).where(
                _dialog_forms.c.dialog_id == dialog.id,
                _dialog_forms.c.kind == FormKind.OFFLINE.value,
            )
            offline_shown = (await s.execute(query)).first() is not None
        now = ctx.clock.now()
        if not offline_shown and await presence.nobody_can_answer_line(s, dialog.line_id, now):
            unanswered_at = now
    if started:
        return await dialog_started(ctx, s, dialog, started, unanswered_at)
    if unanswered_at is None:
        return []
    return await sync(ctx, s, dialog, unanswered_at)


def visitor_message_changes_no_form(conn: Connection, dialog: dict[str, Any], now: datetime) -> bool:
    """What `visitor_wrote` decides for a dialog nobody has taken, on the message batch's connection: True when the
    message owes the visitor no offline form (it was shown already, or an operator of the line can answer), so the
    message may be group-committed like any other."""
    shown = conn.execute(
        select(_dialog_forms.c.id).where(
            _dialog_forms.c.dialog_id == dialog["id"],
            _dialog_forms.c.kind == FormKind.OFFLINE.value,
        )
    ).first()
    return shown is not None or not presence.nobody_can_answer_line_now(conn, dialog["line_id"], now)


# ---- showing -----------------------------------------------------------------------------------


def _close(form: DialogForm, status: str, now: datetime, line_id: str) -> tuple[tuple[str, ...], Event]:
    form.status, form.closed_at = status, now
    payload = {"type": "form.done", "form_id": form.id, "kind": form.kind, "status": status}
    return (visitor_topic(form.visitor_id, line_id),), Event.of(payload)


def form_payload(form: FormView, line: LineView, visitor: VisitorView | VisitorContact) -> dict[str, Any]:
    values: dict[str, str | None] = {"name": visitor.name, "email": visitor.email, "phone": visitor.phone}
    values |= {k: v for k, v in form.values.items() if isinstance(v, str)}
    view = form_view(line.language, FormKind(form.kind), form.step, values)
    return {"id": form.id, "dialog_id": form.dialog_id, "kind": form.kind, "step": form.step, **view}


async def _show(
    s: AsyncSession, form: DialogForm, dialog: Dialog, parties: Parties | None = None
) -> tuple[tuple[str, ...], Event]:
    line, visitor = parties or await _parties(s, dialog)
    topic = visitor_topic(dialog.visitor_id, dialog.line_id)
    return (topic,), Event.of({"type": "form.show", "form": form_payload(form, line, visitor)})


async def _create_form(
    s: AsyncSession,
    dialog: Dialog,
    kind: FormKind,
    now: datetime,
    forms: dict[FormKind, DialogForm],
    parties: Parties,
) -> Events:
    assert dialog.id is not None
    events: Events = []
    replaced = REPLACES.get(kind)
    if replaced is not None:
        old = forms.get(replaced)
        if old is not None and old.status == OPEN:
            events.append(_close(old, WITHDRAWN, now, dialog.line_id))
    visitor = parties[1]
    step = (STEP_CONTACTS if visitor.name else STEP_NAME) if kind is FormKind.INTRO else ""
    earlier = forms.get(kind)
    if earlier is not None:  # opened through the icon before and left: it comes back, by itself this time
        earlier.status, earlier.closed_at, earlier.auto, earlier.shown_at = OPEN, None, True, now
        events.append(await _show(s, earlier, dialog, parties))
        return events
    form = DialogForm(
        dialog_id=dialog.id,
        visitor_id=dialog.visitor_id,
        kind=kind.value,
        status=OPEN,
        step=step,
        auto=True,
        values={},
        shown_at=now,
    )
    s.add(form)
    await s.flush()
    events.append(await _show(s, form, dialog, parties))
    return events


async def run_form_job(ctx: Context, s: AsyncSession, job: Job) -> Events:
    """The durable timer fired: show the form unless it became moot meanwhile."""
    dialog = await lock_dialog(s, int(job.payload["dialog_id"]))
    if dialog is None or dialog.id is None:
        return []
    kind = FormKind(job.payload["kind"])
    forms = await _forms_of(s, dialog.id)
    parties = await _parties(s, dialog)
    facts = await _facts(s, dialog, parties, {}, forms, job.due_at if kind is FormKind.OFFLINE else None)
    now = ctx.clock.now()
    if not show_now(kind, facts, now):
        return []
    events = await _create_form(s, dialog, kind, now, forms, parties)
    return events + await sync(ctx, s, dialog, show_due=False)


# ---- the visitor's answers ---------------------------------------------------------------------


def _clean(kind: FormKind, step: str, raw: dict[str, str], region: str | None, language: str) -> dict[str, str]:
    """The form's values, validated and normalised; FormRejected with a message per bad field."""
    problems: dict[str, Bad] = {}
    out: dict[str, str] = {}

    def take(name: str, value: str | Bad | None, required: bool = False) -> None:
        if isinstance(value, Bad):
            problems[name] = value
        elif value is None and required:
            problems[name] = Bad(Problem.REQUIRED)
        elif value is not None:
            out[name] = value

    if kind is FormKind.RATING:
        rating = raw.get("rating", "").strip()
        if rating not in ("good", "bad"):
            problems["rating"] = Bad(Problem.INVALID_CHOICE)
        else:
            out["rating"] = rating
        take("comment", clean_comment(raw.get("comment", "")))
    elif kind is FormKind.TRANSCRIPT:
        take("email", clean_email(raw.get("email", "")), required=True)
    else:
        take("name", clean_name(raw.get("name", "")), required=kind is FormKind.INTRO)
        if not (kind is FormKind.INTRO and step == STEP_NAME):
            take("email", clean_email(raw.get("email", "")))
            take("phone", clean_phone(raw.get("phone", ""), region))
            if not problems.keys() & {"email", "phone"} and not out.keys() & {"email", "phone"}:
                problems["email"] = Bad(Problem.EMAIL_OR_PHONE)
    if problems:
        fields = {name: problem_text(language, bad) for name, bad in problems.items()}
        raise FormRejected(gettext(language, "Please correct the marked fields."), fields)
    return out


async def _load_for_visitor(
    s: AsyncSession, line: LineView, visitor_id: int, form_id: int
) -> tuple[Dialog, DialogForm]:
    owner = (
        await s.execute(
            select(_dialog_forms.c.dialog_id, _dialog_forms.c.visitor_id).where(_dialog_forms.c.id == form_id)
        )
    ).one_or_none()
    if owner is None or owner.visitor_id != visitor_id:
        raise Forbidden("This form is not yours")
    # The dialog first, then the form: the same order as every other writer of a dialog.
    dialog = await lock_dialog(s, owner.dialog_id)
    if dialog is None or dialog.line_id != line.id:
        raise Forbidden("This form is not yours")
    form = (await s.execute(select(DialogForm).where(_dialog_forms.c.id == form_id).with_for_update())).scalar_one()
    return dialog, form


@publishes
async def submit(
    ctx: Context, line: LineView, visitor_id: int, form_id: int, ref: str, raw: dict[str, str]
) -> FormOutcome:
    now = ctx.clock.now()
    async with ctx.db.write() as s:
        dialog, form = await _load_for_visitor(s, line, visitor_id, form_id)
        assert dialog.id is not None
        if form.last_ref == ref:
            return FormOutcome(form.id, dialog.id, duplicate=True)
        if form.status != OPEN:
            raise Conflict("This form was sent or closed already", "form_closed")
        visitor = await s.get(Visitor, visitor_id, with_for_update=True)
        assert visitor is not None
        kind = FormKind(form.kind)
        region = region_for(line.settings.get("default_country"), visitor.language)
        values = _clean(kind, form.step, raw, region, line.language)
        form.last_ref = ref
        form.values = {**form.values, **values}
        outcome = FormOutcome(form.id, dialog.id)
        if kind is FormKind.RATING:
            await _rate(ctx, s, dialog, values, line.language, outcome)
            outcome.events.append(_close(form, COMPLETED, now, line.id))
        else:
            await _contact(ctx, s, dialog, visitor, kind, values, line.language, outcome)
            if kind is FormKind.INTRO and form.step == STEP_NAME:
                form.step = STEP_CONTACTS  # the form grows: now e-mail and phone
                outcome.events.append(await _show(s, form, dialog))
            else:
                outcome.events.append(_close(form, COMPLETED, now, line.id))
        outcome.events += await sync(ctx, s, dialog)
    if kind is not FormKind.RATING:
        # The operators' lists show the visitor by name from now on.
        outcome.events += await dialog_events(ctx, dialog)
    return outcome


async def _contact(
    ctx: Context,
    s: AsyncSession,
    dialog: Dialog,
    visitor: Visitor,
    kind: FormKind,
    values: dict[str, str],
    language: str,
    outcome: FormOutcome,
) -> None:
    assert dialog.id is not None
    email_before = visitor.email
    for name in ("name", "email", "phone"):
        if values.get(name):
            setattr(visitor, name, values[name])  # the visitor's own latest word; the CRM never overwrites
    given = ContactData(values.get("name"), values.get("email"), values.get("phone"))
    recorded = await BuiltinCrm(ctx.clock).record_chat_contact(
        s,
        ChatContact(
            given, dialog.id, dialog.number, dialog.line_id, dialog.page_url, dialog.lead_id, dialog.contact_id
        ),
    )
    if recorded.record.type == "lead":
        dialog.lead_id = recorded.record.id
    else:
        dialog.contact_id = recorded.record.id
    if kind is FormKind.TRANSCRIPT:
        exists = await s.execute(
            select(_transcript_requests.c.id).where(
                _transcript_requests.c.dialog_id == dialog.id,
                _transcript_requests.c.email == values["email"],
            )
        )
        if exists.first() is None:
            s.add(TranscriptRequest(dialog_id=dialog.id, email=values["email"], created_at=ctx.clock.now()))
            await s.flush()
    # The e-mail side: the transcript goes now, the offline request is remembered, a new address is used.
    await conversation_mail.on_contact_form(ctx, s, dialog, visitor, kind.value, email_before)
    card = {"name": visitor.name, "email": visitor.email, "phone": visitor.phone}
    data = {"form": kind.value, "given": values, "contact": card, "crm": recorded.public()}
    text = card_text(language, kind, {k: v for k, v in card.items() if v} | values)
    message = await append_message(
        ctx, s, dialog, Author("system"), text, kind="system", code="contact_card", data=data
    )
    outcome.events.append(message_event(ctx, dialog, message, None))


async def _rate(
    ctx: Context, s: AsyncSession, dialog: Dialog, values: dict[str, str], language: str, outcome: FormOutcome
) -> None:
    if dialog.rated_at is not None:
        return
    dialog.rating, dialog.rating_comment, dialog.rated_at = values["rating"], values.get("comment"), ctx.clock.now()
    text = rating_text(language, values["rating"], values.get("comment"))
    data = {"rating": values["rating"], "comment": values.get("comment")}
    message = await append_message(
        ctx, s, dialog, Author("system"), text, kind="system", code="dialog_rated", data=data
    )
    outcome.events.append(message_event(ctx, dialog, message, None))


@publishes
async def dismiss(ctx: Context, line: LineView, visitor_id: int, form_id: int) -> FormOutcome:
    async with ctx.db.write() as s:
        dialog, form = await _load_for_visitor(s, line, visitor_id, form_id)
        assert dialog.id is not None
        if form.status != OPEN:
            return FormOutcome(form.id, dialog.id, duplicate=True)
        outcome = FormOutcome(form.id, dialog.id, events=[_close(form, DISMISSED, ctx.clock.now(), line.id)])
        outcome.events += await sync(ctx, s, dialog)
    return outcome


@publishes
async def request_transcript(ctx: Context, line: LineView, visitor_id: int) -> FormOutcome:
    """The transcript icon: show the transcript form now (again, if it was sent or closed before)."""
    async with ctx.db.write() as s:
        dialog = await dialog_lookup.latest_on_line(s, visitor_id, line.id, lock=True)
        if dialog is None or dialog.id is None:
            raise Conflict("There is no conversation to copy yet", "no_dialog")
        now = ctx.clock.now()
        form = (await _forms_of(s, dialog.id)).get(FormKind.TRANSCRIPT)
        if form is None:
            form = DialogForm(
                dialog_id=dialog.id,
                visitor_id=visitor_id,
                kind=FormKind.TRANSCRIPT.value,
                status=OPEN,
                step="",
                auto=False,
                values={},
                shown_at=now,
            )
            s.add(form)
            await s.flush()
        elif form.status != OPEN:
            form.status, form.closed_at, form.shown_at = OPEN, None, now  # `auto` stays: it did appear by itself
        outcome = FormOutcome(form.id, dialog.id, events=[await _show(s, form, dialog)])
        outcome.events += await sync(ctx, s, dialog)
    return outcome
