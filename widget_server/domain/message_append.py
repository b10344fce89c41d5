"""What appending one message to a dialog means: the one decision every writer of messages follows.

Whoever writes (the widget, the console, a job, a channel's webhook), the message goes through `decide`, with the
facts read about its dialog in one statement, and every writer stores what it says. Nothing else in the code knows
how `seq` grows, when a dialog is "unanswered", what a resend is, who may write where, or what a message owes.

| writer   | facts                                                      | decision                                  |
|----------|------------------------------------------------------------|-------------------------------------------|
| operator | no dialog, or not on their lines                           | Refused(forbidden): the same for both     |
| anyone   | `client_msg_id` stored before in the dialog, same writer,  | Resent(its seq): acknowledged, not stored |
|          | same kind (and the same operator)                          |                                           |
| anyone   | `client_msg_id` stored before in the dialog, otherwise     | Refused(id_taken)                         |
| visitor  | no open dialog on the line                                 | StartDialog: a new dialog takes it        |
| operator | the dialog is finished (a note may still be written)       | Refused(dialog_closed)                    |
| anyone   | otherwise                                                  | Append(seq = last_seq + 1, ...)           |

An `Append` also says what the message owes beyond its row (`Owed`), each a duty of the full use case:

| owed           | when                                                                       |
|----------------|----------------------------------------------------------------------------|
| `status`       | a visitor's or operator's message moves the dialog's status (dialog_state) |
| `assignment`   | an operator writes in a dialog nobody has taken: it becomes theirs          |
| `offline_form` | a visitor writes in a dialog nobody has taken whose offline form has not    |
|                | appeared: the forms decide whether nobody can answer (then it is due)       |
| `unread_mail`  | an operator writes to a visitor with an e-mail address (the unread e-mail)  |
| `attachment`   | the message carries a file: its row is written beside the message's         |

A message that owes nothing changes only its dialog's `seq`, time, "unanswered" and page: the group-committing
writer stores it alone, many to a transaction (storage/message_writer.py). Any other one is stored by its full
use case, through the same `advance` and the same rows.

"Unanswered" is whose turn it is: a visitor's written message starts the wait (if it has not started), an
operator's ends it; notices, notes and the bot's messages leave it as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from widget_server.domain.dialog_state import OPEN_STATUSES, DialogEvent, DialogStatus, next_status
from widget_server.domain.permissions import works_on
from widget_server.domain.visibility import STAFF_ONLY_KINDS, WRITTEN_KINDS

_OPEN = frozenset(st.value for st in OPEN_STATUSES)


class Writer(StrEnum):
    VISITOR = "visitor"
    OPERATOR = "operator"
    BOT = "bot"
    SYSTEM = "system"


class Owed(StrEnum):
    STATUS = "status"
    ASSIGNMENT = "assignment"
    OFFLINE_FORM = "offline_form"
    UNREAD_MAIL = "unread_mail"
    ATTACHMENT = "attachment"


@dataclass(frozen=True, slots=True)
class DialogFacts:
    """A dialog as the decision needs it, with what is known about its visitor and forms."""

    id: int
    line_id: str
    visitor_id: int
    status: str
    operator_id: int | None
    last_seq: int
    waiting_since: datetime | None
    visitor_has_email: bool = False
    offline_form_shown: bool = False


@dataclass(frozen=True, slots=True)
class Earlier:
    """A message stored before under the same `client_msg_id` in the dialog."""

    seq: int
    writer: str
    kind: str
    operator_id: int | None


@dataclass(frozen=True, slots=True)
class Request:
    writer: Writer
    at: datetime
    kind: str = "text"
    client_msg_id: str | None = None
    line_ids: frozenset[str] | None = None  # an operator's lines: where they may write
    operator_id: int | None = None
    with_file: bool = False


@dataclass(frozen=True, slots=True)
class Move:
    """What a stored message changes on its dialog."""

    seq: int
    updated_at: datetime
    waiting_since: datetime | None


@dataclass(frozen=True, slots=True)
class Append:
    move: Move
    status: str
    owes: frozenset[Owed] = field(default_factory=frozenset)

    @property
    def seq(self) -> int:
        return self.move.seq


@dataclass(frozen=True, slots=True)
class Resent:
    seq: int


class Refusal(StrEnum):
    FORBIDDEN = "forbidden"
    DIALOG_CLOSED = "dialog_closed"
    ID_TAKEN = "id_taken"


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Refusal


@dataclass(frozen=True, slots=True)
class StartDialog:
    pass


Decision = Append | Resent | Refused | StartDialog


def landing_dialog(candidates: Iterable[DialogFacts]) -> DialogFacts | None:
    """The dialog a visitor's message goes to, among their dialogs on the line: the newest open one.

    (A finished dialog is reopened only if it is the visitor's latest, so an open dialog is always the newest.)"""
    return max((d for d in candidates if d.status in _OPEN), key=lambda d: d.id, default=None)


def advance(last_seq: int, waiting_since: datetime | None, writer: str, kind: str, at: datetime) -> Move:
    """The next `seq`, and whose turn it is after this message (the inbox's "unanswered")."""
    if kind in WRITTEN_KINDS:
        if writer == Writer.VISITOR:
            waiting_since = waiting_since or at
        elif writer == Writer.OPERATOR:
            waiting_since = None
    return Move(last_seq + 1, at, waiting_since)


_STATUS_EVENTS = {Writer.VISITOR: DialogEvent.VISITOR_MESSAGE, Writer.OPERATOR: DialogEvent.OPERATOR_MESSAGE}


def decide(request: Request, dialog: DialogFacts | None, earlier: Earlier | None) -> Decision:
    """What appending `request` to `dialog` (the one it names, or the visitor's landing dialog) means."""
    operator = request.writer is Writer.OPERATOR
    if operator and (
        dialog is None or (request.line_ids is not None and not works_on(request.line_ids, dialog.line_id))
    ):
        return Refused(Refusal.FORBIDDEN)
    if dialog is None or (request.writer is Writer.VISITOR and dialog.status not in _OPEN):
        return StartDialog()
    if earlier is not None:
        same = (earlier.writer, earlier.kind, earlier.operator_id) == (
            request.writer,
            request.kind,
            request.operator_id,
        )
        return Resent(earlier.seq) if same else Refused(Refusal.ID_TAKEN)
    if operator and dialog.status not in _OPEN and request.kind not in STAFF_ONLY_KINDS:
        return Refused(Refusal.DIALOG_CLOSED)
    owes: set[Owed] = set()
    status = dialog.status
    written = request.kind in WRITTEN_KINDS
    event = _STATUS_EVENTS.get(request.writer)
    if event is not None and written:
        status = next_status(DialogStatus(status), event).value
        if status != dialog.status:
            owes.add(Owed.STATUS)
    if dialog.operator_id is None and written:
        if operator:
            owes.add(Owed.ASSIGNMENT)
        elif request.writer is Writer.VISITOR and not dialog.offline_form_shown:
            owes.add(Owed.OFFLINE_FORM)
    if operator and written and dialog.visitor_has_email:
        owes.add(Owed.UNREAD_MAIL)
    if request.with_file:
        owes.add(Owed.ATTACHMENT)
    move = advance(dialog.last_seq, dialog.waiting_since, request.writer, request.kind, request.at)
    return Append(move, status, frozenset(owes))
