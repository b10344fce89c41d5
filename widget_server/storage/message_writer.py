"""The one writer of messages: every message's row and its dialog's move, for every path that appends one.

Two ways in, the same rows:
- `message_batcher` group-commits what needs nothing but its row (most of a chat under load). Messages that
  arrive while one transaction runs wait for the next, and that one stores them all: one statement reads the facts
  of their dialogs (locked), one finds resent `client_msg_id`s, one `executemany` inserts the messages and one
  moves the dialogs. A caller is answered after the commit, so an acknowledgement still means "stored".
- `insert_message` stores one message inside a use case's own transaction (a new dialog, an assignment, a file,
  a notice): the same row (`message_row`) and the same move (`domain.message_append.advance`).

This module decides nothing. Each draft's fate is `domain.message_append.decide` on the facts read here; a draft it
answers with anything but an `Append` that owes nothing comes back to its caller, with the decision, to take the
full use case. Statements are Core, compiled once per dialect, and run straight on sqlite3 where that is the driver
(driver_select.py): SQLite's writer thread is the only writer there, and at 2,000 messages a second SQLAlchemy's
per-statement work was a fifth of the server's core (bench/notes.md).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.domain.message_append import (
    Append,
    Decision,
    DialogFacts,
    Earlier,
    Move,
    Request,
    decide,
    landing_dialog,
)
from widget_server.storage.coalescer import Coalescer
from widget_server.storage.driver_select import DriverSelect, DriverWrite
from widget_server.storage.tables import Dialog, DialogForm, Message, Visitor, table_of

log = logging.getLogger(__name__)

MAX_BATCH = 500

_dialogs = table_of(Dialog)
_messages = table_of(Message)
_visitors = table_of(Visitor)
_forms = table_of(DialogForm)

# Every other column of a message at its model default, so a column added later is written (and read) too.
_MESSAGE_DEFAULTS: dict[str, Any] = {
    name: field.get_default(call_default_factory=True) if not field.is_required() else None
    for name, field in Message.model_fields.items()
    if name != "id"
}
_MESSAGE_COLUMNS = list(_MESSAGE_DEFAULTS)
# The columns a stored message moves on its dialog, besides its id.
DIALOG_CHANGES = ("last_seq", "updated_at", "waiting_since", "page_url", "page_title")


@dataclass(frozen=True, slots=True)
class Draft:
    """A message to append: what is written, by whom, and where it goes."""

    request: Request
    body: str
    dialog_id: int | None = None  # the dialog its writer names (an operator, a job)...
    visitor_line: tuple[int, str] | None = None  # ...or this visitor's landing dialog on this line
    operator_id: int | None = None
    page: tuple[str, str | None] | None = None  # the visitor's page (url, title), recorded on the dialog
    code: str | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Written:
    """A draft's fate. `stored` is True when this writer stored it; otherwise `decision` says what the full use
    case has to do (`message` is the earlier one for a resend). `dialog` is the dialog's row after the commit."""

    decision: Decision
    stored: bool
    dialog: dict[str, Any] | None = None
    message: dict[str, Any] | None = None


def message_row(draft: Draft, dialog_id: int, move: Move) -> dict[str, Any]:
    request = draft.request
    return {
        **_MESSAGE_DEFAULTS,
        "dialog_id": dialog_id,
        "seq": move.seq,
        "kind": request.kind,
        "author_type": request.writer.value,
        "operator_id": draft.operator_id,
        "code": draft.code,
        "body": draft.body,
        "client_msg_id": request.client_msg_id,
        "data": draft.data,
        "created_at": move.updated_at,
    }


def facts_of(row: dict[str, Any]) -> DialogFacts:
    return DialogFacts(
        id=row["id"],
        line_id=row["line_id"],
        visitor_id=row["visitor_id"],
        status=row["status"],
        operator_id=row["operator_id"],
        last_seq=row["last_seq"],
        waiting_since=row["waiting_since"],
        visitor_has_email=bool(row["visitor_has_email"]),
        offline_form_shown=bool(row["offline_form_shown"]),
    )


# -- the statements -------------------------------------------------------------------------------------------

_HAS_EMAIL = (
    exists()
    .where(_visitors.c.id == _dialogs.c.visitor_id, _visitors.c.email.is_not(None), _visitors.c.email != "")
    .label("visitor_has_email")
)
_OFFLINE_SHOWN = (
    exists().where(_forms.c.dialog_id == _dialogs.c.id, _forms.c.kind == "offline").label("offline_form_shown")
)
_BY_ID = _dialogs.c.id.in_(bindparam("ids", expanding=True))
# All of the visitors' dialogs, whatever their status (the decision picks the open one): with a status condition
# here, SQLite's planner chose the status index and read every open dialog of the installation for each batch.
_BY_VISITOR = _dialogs.c.visitor_id.in_(bindparam("visitors", expanding=True))
_FACTS = {
    key: DriverSelect(
        select(_dialogs, _HAS_EMAIL, _OFFLINE_SHOWN).where(where).order_by(_dialogs.c.id).with_for_update(of=_dialogs)
    )
    for key, where in {(True, False): _BY_ID, (False, True): _BY_VISITOR, (True, True): _BY_ID | _BY_VISITOR}.items()
}
_INSERT = DriverWrite(_messages.insert(), _MESSAGE_COLUMNS)
_MOVE = DriverWrite(
    update(_dialogs)
    .where(_dialogs.c.id == bindparam("b_id"))
    .values(**{c: bindparam(f"b_{c}", type_=_dialogs.c[c].type) for c in DIALOG_CHANGES})
)


@functools.cache
def _stored(size: int) -> DriverSelect:
    """Messages with any of `size` (dialog, client_msg_id) pairs: one index lookup per pair.

    `dialog_id IN (...) AND client_msg_id IN (...)` looks up every combination (a batch of 300 is 90,000 lookups),
    and a row value `IN` scanned the table on SQLite. Sizes are powers of two, so a handful is ever compiled.
    """
    pairs = [
        and_(_messages.c.dialog_id == bindparam(f"d{i}"), _messages.c.client_msg_id == bindparam(f"c{i}"))
        for i in range(size)
    ]
    query: Select[Any] = select(*(c for c in _messages.columns if c.name != "id")).where(or_(*pairs))
    return DriverSelect(query)


def _padded(values: list[Any]) -> list[Any]:
    # Lists grow to the next power of two (repeating an item changes no `IN`): few distinct statements, so each
    # is compiled once here and prepared once in sqlite3's statement cache.
    size = 1 << (len(values) - 1).bit_length()
    return values + [values[-1]] * (size - len(values))


def read_dialogs(conn: Connection, ids: list[int], visitors: list[int]) -> dict[int, dict[str, Any]]:
    """Dialogs by id and every dialog of these visitors, with their facts, locked (row locks on PostgreSQL)."""
    params: dict[str, Any] = {}
    if ids:
        params["ids"] = _padded(ids)
    if visitors:
        params["visitors"] = _padded(visitors)
    if not params:
        return {}
    return {row["id"]: row for row in _FACTS[(bool(ids), bool(visitors))].rows(conn, params)}


def read_stored(conn: Connection, keys: list[tuple[int, str]]) -> dict[tuple[int, str], dict[str, Any]]:
    """Messages already stored under these (dialog id, client_msg_id) pairs, without their `id`."""
    found = {}
    # At most 256 pairs a statement: an OR chain is parsed as a tree as deep as the chain is long.
    for start in range(0, len(keys), 256):
        chunk = _padded(keys[start : start + 256])
        params = {f"d{i}": d for i, (d, _) in enumerate(chunk)} | {f"c{i}": c for i, (_, c) in enumerate(chunk)}
        for row in _stored(len(chunk)).rows(conn, params):
            found[(row["dialog_id"], row["client_msg_id"])] = row
    return found


def read_one(conn: Connection, draft: Draft) -> tuple[DialogFacts | None, dict[str, Any] | None]:
    """The facts `decide` needs for one draft, read in the caller's transaction (the full use case's): its
    dialog's, and the message stored before under its `client_msg_id` there, if any."""
    facts = _Dialogs({i: facts_of(row) for i, row in _dialogs_for(conn, [draft]).items()}).choose(draft)
    msg_id = draft.request.client_msg_id
    if facts is None or msg_id is None:
        return facts, None
    return facts, read_stored(conn, [(facts.id, msg_id)]).get((facts.id, msg_id))


def _dialogs_for(conn: Connection, drafts: list[Draft]) -> dict[int, dict[str, Any]]:
    ids = list({d.dialog_id for d in drafts if d.dialog_id is not None})
    visitors = list({d.visitor_line[0] for d in drafts if d.visitor_line is not None})
    return read_dialogs(conn, ids, visitors)


class _Dialogs:
    """The facts of a batch's dialogs, found by id or by visitor and line (each draft once: no scan per draft)."""

    def __init__(self, facts: dict[int, DialogFacts]) -> None:
        self.facts = facts
        self._on_line: dict[tuple[int, str], list[int]] = {}
        for dialog in facts.values():
            self._on_line.setdefault((dialog.visitor_id, dialog.line_id), []).append(dialog.id)

    def choose(self, draft: Draft) -> DialogFacts | None:
        if draft.visitor_line is not None:
            return landing_dialog(self.facts[i] for i in self._on_line.get(draft.visitor_line, ()))
        return self.facts.get(draft.dialog_id) if draft.dialog_id is not None else None


def _earlier(message: dict[str, Any] | None) -> Earlier | None:
    if message is None:
        return None
    return Earlier(message["seq"], message["author_type"], message["kind"], message["operator_id"])


# -- the group commit -----------------------------------------------------------------------------------------


def store_batch(conn: Connection, drafts: list[Draft]) -> list[Written]:
    """Decide each draft on its dialog's facts as the earlier drafts of the batch left them; store the ones whose
    append owes nothing; hand the others back."""
    rows = _dialogs_for(conn, drafts)
    dialogs = _Dialogs({dialog_id: facts_of(row) for dialog_id, row in rows.items()})
    keys = list(
        dict.fromkeys(
            (dialog.id, draft.request.client_msg_id)
            for draft in drafts
            if draft.request.client_msg_id is not None and (dialog := dialogs.choose(draft)) is not None
        )
    )
    earlier = read_stored(conn, keys) if keys else {}
    results: list[Written] = []
    inserts: list[dict[str, Any]] = []
    moved: dict[int, dict[str, Any]] = {}
    for draft in drafts:
        # Chosen against the batch's own changes: two messages to one dialog in a batch take seq n and n+1.
        dialog = dialogs.choose(draft)
        client_msg_id = draft.request.client_msg_id
        key = (dialog.id, client_msg_id) if dialog is not None and client_msg_id is not None else None
        before = earlier.get(key) if key is not None else None
        decision = decide(draft.request, dialog, _earlier(before))
        if not isinstance(decision, Append) or decision.owes:
            results.append(Written(decision, False, dict(rows[dialog.id]) if dialog else None, before))
            continue
        assert dialog is not None
        move = decision.move
        dialogs.facts[dialog.id] = dataclasses.replace(
            dialog, last_seq=move.seq, waiting_since=move.waiting_since, status=decision.status
        )
        row = rows[dialog.id]
        row |= {"last_seq": move.seq, "updated_at": move.updated_at, "waiting_since": move.waiting_since}
        if draft.page is not None:
            row["page_url"], row["page_title"] = draft.page
        message = message_row(draft, dialog.id, move)
        if key is not None:
            earlier[key] = message  # the same id twice in one batch (two tabs) is a resend of the first
        inserts.append(message)
        moved[dialog.id] = row
        results.append(Written(decision, True, dict(row), message))
    if inserts:
        _INSERT.run(conn, inserts)
        _MOVE.run(conn, [{"b_id": row["id"], **{f"b_{c}": row[c] for c in DIALOG_CHANGES}} for row in moved.values()])
    return results


# -- inside a use case's transaction ---------------------------------------------------------------------------

_INSERT_ONE = _messages.insert().returning(_messages.c.id)


async def insert_message(s: AsyncSession, row: dict[str, Any]) -> int:
    """Store one message row in the session's transaction; its id (an attachment refers to it)."""
    result = await s.execute(_INSERT_ONE, row)
    return int(result.scalar_one())


async def decide_in(s: AsyncSession, draft: Draft) -> tuple[Decision, DialogFacts | None, dict[str, Any] | None]:
    """`decide` for one draft on facts read in the session's transaction; the dialog's facts and, for a resend,
    the earlier message."""

    def read(sync_session: Any) -> tuple[DialogFacts | None, dict[str, Any] | None]:
        return read_one(sync_session.connection(), draft)

    facts, before = await s.run_sync(read)
    return decide(draft.request, facts, _earlier(before)), facts, before


def message_batcher(run_write: Callable[..., Awaitable[list[Written]]]) -> Coalescer[Draft, Written]:
    """Drafts that arrive while a batch is being written go together as the next batch (coalescer.py): one trip to
    the writer, one transaction. A caller is answered once the batch has committed."""

    async def write(drafts: list[Draft]) -> list[Written]:
        return await run_write(store_batch, drafts)

    return Coalescer(write, name="message-writer", max_batch=MAX_BATCH)
