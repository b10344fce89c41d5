"""Group commit for the steady case of a chat: a message appended to a dialog that it does not otherwise change.

Committing each message alone costs a transaction (and on SQLite the one write lock) per message, and the
lock is held across every database round trip of that transaction. Here the messages that arrive while one
transaction is running wait for the next, and that one stores them all: one query finds their dialogs (locked),
one finds resent `client_msg_id`s, one `executemany` inserts the messages and one moves each dialog's `last_seq`.
A caller is answered only after the commit, so an acknowledgement still means "stored".

The writer knows nothing of dialog rules. Each draft says under which conditions it may be appended this way
(the dialog's status, its line, an assigned operator); a draft whose dialog does not meet them, or has none,
gets `None` and the caller runs its full use case instead. Batches are as large as the load makes them: under
light load a draft is written at once, alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from widget_server.storage.message_rows import rows_for
from widget_server.storage.tables import Message

if TYPE_CHECKING:
    from widget_server.storage.database import Database

log = logging.getLogger(__name__)

MAX_BATCH = 500
# Every other column of a message at its model default, so a column added later is written (and read) too.
_MESSAGE_DEFAULTS: dict[str, Any] = {
    name: field.get_default(call_default_factory=True) if not field.is_required() else None
    for name, field in Message.model_fields.items()
    if name != "id"
}


@dataclass(frozen=True, slots=True)
class Draft:
    """A message to append, the dialog it goes to, and when it may go in without the full use case."""

    author_type: str
    body: str
    client_msg_id: str
    created_at: datetime
    statuses: frozenset[str]  # the dialog's status must be one of these (ones this message leaves unchanged)
    dialog_id: int | None = None  # the dialog, when the author names it (operators)
    visitor_line: tuple[int, str] | None = None  # or: this visitor's newest dialog on this line among...
    open_statuses: frozenset[str] = frozenset()  # ...the dialogs with one of these statuses
    line_ids: frozenset[str] | None = None  # the dialog must be on one of these lines
    needs_operator: bool = False  # the dialog must have an operator already...
    # ...unless this says the dialog without one may take this path too; asked inside the batch's transaction with
    # the dialog's row, so the rule it checks (services) sees the same state the message is written into.
    unassigned_ok: Callable[[Connection, dict[str, Any]], bool] | None = None
    # The dialog's visitor must have no e-mail address: what the unread-mail hook of an operator message needs
    # to know, and all it needs when there is none (conversation_mail.on_operator_message then does nothing).
    needs_visitor_without_email: bool = False
    operator_id: int | None = None
    page: tuple[str, str | None] | None = None  # the visitor's page (url, title), recorded on the dialog
    kind: str = "text"
    # Whose turn it is after this message (the inbox's "unanswered"): "visitor" starts the wait if it has not
    # started, "staff" ends it, None leaves it (domain rule in services/dialogs.py `append_message`).
    waits: str | None = None


@dataclass(frozen=True, slots=True)
class Appended:
    """Stored: the dialog as it is after the commit, and the message's columns (its `seq` among them)."""

    dialog: dict[str, Any]
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Resent:
    """The `client_msg_id` was stored before in this dialog: nothing new was written."""

    dialog: dict[str, Any]
    message: dict[str, Any]


Result = Appended | Resent | None


class MessageBatcher:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: list[tuple[Draft, asyncio.Future[Result]]] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def append(self, draft: Draft) -> Result:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._task is None or self._task.done():
            # First use on this loop (a test server restarted in a new thread gets a new loop).
            self._loop, self._wakeup, self._pending = loop, asyncio.Event(), []
            self._task = loop.create_task(self._run(), name="message-batcher")
        future: asyncio.Future[Result] = loop.create_future()
        self._pending.append((draft, future))
        assert self._wakeup is not None
        self._wakeup.set()
        return await future

    async def close(self) -> None:
        if self._task is not None and self._loop is asyncio.get_running_loop():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _store(self, drafts: list[Draft]) -> list[Result]:
        return await self._db.run_write(_store, drafts)

    async def _run(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._write_batch(batch)

    async def _write_batch(self, batch: list[tuple[Draft, asyncio.Future[Result]]]) -> None:
        live = [(d, f) for d, f in batch if not f.done()]  # a caller that gave up (its connection closed)
        if not live:
            return
        try:
            results = await self._store([d for d, _ in live])
        except Exception as exc:
            if len(live) == 1:
                if not live[0][1].done():
                    live[0][1].set_exception(exc)
                return
            # One bad draft must not fail the others: write each alone, so the fault lands on its own caller.
            log.warning("a batch of %d messages failed (%s); writing them one by one", len(live), exc)
            for item in live:
                await self._write_batch([item])
            return
        for (_, future), result in zip(live, results, strict=True):
            if not future.done():
                future.set_result(result)


def _store(conn: Connection, drafts: list[Draft]) -> list[Result]:
    rows = rows_for(conn)
    ids = list({d.dialog_id for d in drafts if d.dialog_id is not None})
    visitors = list({d.visitor_line[0] for d in drafts if d.visitor_line is not None})
    dialogs = rows.dialogs(ids, visitors) if ids or visitors else {}
    by_visitor: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for dialog in sorted(dialogs.values(), key=lambda r: -r["id"]):
        by_visitor.setdefault((dialog["visitor_id"], dialog["line_id"]), []).append(dialog)

    chosen: list[dict[str, Any] | None] = []
    for draft in drafts:
        row = dialogs.get(draft.dialog_id) if draft.dialog_id is not None else None
        if draft.visitor_line is not None:
            candidates = by_visitor.get(draft.visitor_line, [])
            row = next((r for r in candidates if r["status"] in draft.open_statuses), None)
        if row is not None and not _may_append(conn, draft, row):
            row = None
        chosen.append(row)
    asked = list({r["visitor_id"] for d, r in zip(drafts, chosen, strict=True) if r and d.needs_visitor_without_email})
    with_email = rows.visitors_with_email(asked) if asked else set()
    if with_email:
        chosen = [
            None if r is not None and d.needs_visitor_without_email and r["visitor_id"] in with_email else r
            for d, r in zip(drafts, chosen, strict=True)
        ]

    keys = list(dict.fromkeys((r["id"], d.client_msg_id) for d, r in zip(drafts, chosen, strict=True) if r))
    earlier = rows.stored(keys) if keys else {}
    results: list[Result] = []
    inserts: list[dict[str, Any]] = []
    touched: dict[int, dict[str, Any]] = {}
    for draft, row in zip(drafts, chosen, strict=True):
        if row is None:
            results.append(None)
            continue
        key = (row["id"], draft.client_msg_id)
        if key in earlier:
            results.append(Resent(dict(row), earlier[key]))
            continue
        row["last_seq"] += 1
        row["updated_at"] = draft.created_at
        if draft.waits == "visitor":
            row["waiting_since"] = row["waiting_since"] or draft.created_at
        elif draft.waits == "staff":
            row["waiting_since"] = None
        if draft.page is not None:
            row["page_url"], row["page_title"] = draft.page
        message = {
            **_MESSAGE_DEFAULTS,
            "dialog_id": row["id"],
            "seq": row["last_seq"],
            "kind": draft.kind,
            "author_type": draft.author_type,
            "operator_id": draft.operator_id,
            "code": None,
            "body": draft.body,
            "client_msg_id": draft.client_msg_id,
            "created_at": draft.created_at,
        }
        earlier[key] = message  # the same id twice in one batch (two tabs) is a resend of the first
        inserts.append(message)
        touched[row["id"]] = row
        results.append(Appended(dict(row), message))
    if inserts:
        rows.insert(inserts)
        rows.move_dialogs(list(touched.values()))
    return results


def _may_append(conn: Connection, draft: Draft, row: dict[str, Any]) -> bool:
    if row["status"] not in draft.statuses:
        return False
    if draft.line_ids is not None and row["line_id"] not in draft.line_ids:
        return False
    if draft.needs_operator and row["operator_id"] is None:
        return draft.unassigned_ok is not None and draft.unassigned_ok(conn, row)
    return True
