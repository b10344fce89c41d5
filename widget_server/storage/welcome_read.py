"""The reads of a visitor's `hello`, each a whole read transaction in plain Core (run by `Database.run_read`).

A returning visitor's welcome used to be about eight ORM sessions (line, token, unread-mail reset, resume check,
latest dialog, messages, operator name, open forms), each a handful of trips through aiosqlite's thread. When
thousands of widgets come back at once (a deploy, a network blip) those trips ran the connection pool dry. Here
the reads before the visitor's topic is subscribed are one transaction (`read_arrival`) and the ones after it are
another (`read_welcome`); the rows come back as plain dicts, which cost far less than ORM instances.

What to show (which dialog, from which seq) is the caller's rule: `read_welcome` takes it as a function.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from widget_server.storage.dialog_lookup import LATEST_ON_LINE
from widget_server.storage.driver_select import DriverSelect
from widget_server.storage.tables import (
    Attachment,
    Dialog,
    DialogForm,
    DialogMail,
    Message,
    OpenLine,
    Operator,
    Visitor,
    VisitorToken,
    table_of,
)

Row = dict[str, Any]

_lines = table_of(OpenLine)
_visitors = table_of(Visitor)
_tokens = table_of(VisitorToken)
_dialogs = table_of(Dialog)
_mail = table_of(DialogMail)
_messages = table_of(Message)
_operators = table_of(Operator)
_attachments = table_of(Attachment)
_forms = table_of(DialogForm)

# Statements built once, with bound parameters, and run on the driver where it is SQLite (driver_select.py):
# building one per call (and its cache key) cost as much as running it, and Core's execution as much again.
_LINE = DriverSelect(select(_lines).where(_lines.c.id == bindparam("line_id")))
_BY_TOKEN = DriverSelect(select(_visitors).where(_visitors.c.token_hash == bindparam("hashed")))
_BY_LATER_TOKEN = DriverSelect(
    select(_visitors)
    .join(_tokens, _tokens.c.visitor_id == _visitors.c.id)
    .where(_tokens.c.token_hash == bindparam("hashed"))
)
_CLOSED_PAGES = DriverSelect(
    select(_mail.c.dialog_id)
    .join(_dialogs, _dialogs.c.id == _mail.c.dialog_id)
    .where(
        _dialogs.c.visitor_id == bindparam("visitor_id"),
        _dialogs.c.line_id == bindparam("line_id"),
        _mail.c.page_closed_at.is_not(None),
    )
)
_DIALOG = DriverSelect(select(_dialogs).where(_dialogs.c.id == bindparam("dialog_id")))
_OPERATOR_NAME = DriverSelect(select(_operators.c.name).where(_operators.c.id == bindparam("operator_id")))
_BOT_NAME = DriverSelect(
    select(_lines.c.name)
    .join(_dialogs, _dialogs.c.line_id == _lines.c.id)
    .where(_dialogs.c.id == bindparam("dialog_id"))
)
_OPEN_FORMS = DriverSelect(
    select(_forms)
    .join(_dialogs, _dialogs.c.id == _forms.c.dialog_id)
    .where(
        _forms.c.visitor_id == bindparam("visitor_id"),
        _dialogs.c.line_id == bindparam("line_id"),
        _forms.c.status == bindparam("status"),
    )
    .order_by(_forms.c.id)
)
_CONTACT = DriverSelect(
    select(_visitors.c.name, _visitors.c.email, _visitors.c.phone).where(_visitors.c.id == bindparam("visitor_id"))
)
_ATTACHMENT = [c.label(f"attachment_{c.name}") for c in _attachments.c]
_MESSAGE_COLUMNS = [c.name for c in _messages.c]
_ATTACHMENT_COLUMNS = [(c.name, label.name) for c, label in zip(_attachments.c, _ATTACHMENT, strict=True)]
_MESSAGES = (
    select(*_messages.c, _operators.c.name.label("operator_name"), *_ATTACHMENT)
    .outerjoin(_operators, _operators.c.id == _messages.c.operator_id)
    .outerjoin(_attachments, _attachments.c.message_id == _messages.c.id)
    .where(_messages.c.dialog_id == bindparam("dialog_id"), _messages.c.seq > bindparam("after"))
)
# (kinds given, upto given, newest first with a limit) -> the statement
_MESSAGE_QUERIES: dict[tuple[bool, bool, bool], DriverSelect] = {}


def _messages_query(kinds: bool, upto: bool, latest: bool) -> DriverSelect:
    prepared = _MESSAGE_QUERIES.get((kinds, upto, latest))
    if prepared is None:
        query = _MESSAGES
        if kinds:
            query = query.where(_messages.c.kind.in_(bindparam("kinds", expanding=True)))
        if upto:
            query = query.where(_messages.c.seq <= bindparam("upto"))
        if latest:
            query = query.order_by(_messages.c.seq.desc()).limit(bindparam("limit"))
        else:
            query = query.order_by(_messages.c.seq)
        prepared = _MESSAGE_QUERIES[(kinds, upto, latest)] = DriverSelect(query)
    return prepared


@dataclass(frozen=True, slots=True)
class MessageRow:
    message: Row
    operator_name: str | None  # the author's, for a message by an operator
    attachment: Row | None


@dataclass(frozen=True, slots=True)
class Messages:
    rows: list[MessageRow]
    bot_name: str | None  # the name of the dialog's line, when a bot wrote any of them (the bot speaks as the line)


@dataclass(frozen=True, slots=True)
class Arrival:
    """What a hello must know before the visitor's topic is subscribed."""

    visitor: Row | None  # the visitor holding the token, None for an unknown one
    resume_dialog: Row | None = None  # the dialog `hello.resume` names, if it exists (whoever's it is)
    closed_page_dialogs: list[int] = field(default_factory=list)  # this line's dialogs under the page-closed rule


@dataclass(frozen=True, slots=True)
class Welcome:
    """What the welcome shows, read after the visitor's topic is subscribed."""

    latest: Row | None  # the visitor's newest dialog on the line
    shown: Row | None  # the dialog to show
    after: int  # its messages after this seq
    messages: Messages
    operator_name: str | None  # the shown dialog's operator's
    open_forms: list[Row]  # forms still open for the visitor on this line, oldest first
    contact: Row | None  # the visitor's name, email and phone, when there are open forms to fill in with them


def read_line(conn: Connection, line_id: str) -> Row | None:
    return _LINE.first(conn, {"line_id": line_id})


def visitor_for_token(conn: Connection, hashed: str) -> Row | None:
    """The visitor holding this token: their first one, or one issued later by an e-mail's link."""
    return _BY_TOKEN.first(conn, {"hashed": hashed}) or _BY_LATER_TOKEN.first(conn, {"hashed": hashed})


def closed_page_dialogs(conn: Connection, visitor_id: int, line_id: str) -> list[int]:
    """The visitor's dialogs on the line whose pages were all closed (the unread-mail page-closed rule)."""
    return _CLOSED_PAGES.scalars(conn, {"visitor_id": visitor_id, "line_id": line_id})


def read_arrival(conn: Connection, hashed: str, line_id: str, resume_dialog_id: int | None) -> Arrival:
    visitor = visitor_for_token(conn, hashed)
    if visitor is None:
        return Arrival(None)
    resume = _dialog(conn, resume_dialog_id) if resume_dialog_id is not None else None
    # A visitor without an e-mail address is never put under the page-closed rule (it only leads to an e-mail).
    closed = closed_page_dialogs(conn, visitor["id"], line_id) if visitor["email"] else []
    return Arrival(visitor, resume, closed)


def read_messages(
    conn: Connection, dialog_id: int, after: int, upto: int | None, limit: int | None, kinds: Collection[str] | None
) -> Messages:
    """Messages after `after` (and up to `upto`), oldest first; without bounds, the latest `limit`. `kinds`, when
    given, are the only kinds read (what the reader may see)."""
    latest = upto is None and after == 0 and limit is not None
    query = _messages_query(kinds is not None, upto is not None, latest)
    params: dict[str, Any] = {"dialog_id": dialog_id, "after": after}
    if kinds is not None:
        params["kinds"] = sorted(kinds)
    if upto is not None:
        params["upto"] = upto
    if latest:
        params["limit"] = limit
    found = query.rows(conn, params)
    if latest:
        found.reverse()
    rows = []
    bot = False
    for values in found:
        message = {name: values[name] for name in _MESSAGE_COLUMNS}
        bot = bot or message["author_type"] == "bot"
        attachment = None
        if values["attachment_id"] is not None:
            attachment = {name: values[label] for name, label in _ATTACHMENT_COLUMNS}
        rows.append(MessageRow(message, values["operator_name"], attachment))
    bot_name = None
    if bot:
        bot_name = _BOT_NAME.scalar(conn, {"dialog_id": dialog_id})
    return Messages(rows, bot_name)


def read_welcome(
    conn: Connection,
    visitor_id: int,
    line_id: str,
    choose: Callable[[Row | None], tuple[int | None, int]],
    limit: int,
    kinds: Collection[str],
    open_form_status: str,
) -> Welcome:
    """`choose(latest dialog)` says which dialog to show and after which seq; its messages are read for `kinds`."""
    latest = LATEST_ON_LINE.first(conn, {"visitor_id": visitor_id, "line_id": line_id})
    shown_id, after = choose(latest)
    shown = latest if latest is not None and latest["id"] == shown_id else _dialog(conn, shown_id)
    messages = read_messages(conn, shown["id"], after, None, limit, kinds) if shown is not None else Messages([], None)
    operator_name = None
    if shown is not None and shown["operator_id"] is not None:
        operator_name = _OPERATOR_NAME.scalar(conn, {"operator_id": shown["operator_id"]})
    asked = {"visitor_id": visitor_id, "line_id": line_id, "status": open_form_status}
    forms = _OPEN_FORMS.rows(conn, asked)
    contact = _CONTACT.first(conn, {"visitor_id": visitor_id}) if forms else None
    return Welcome(latest, shown, after, messages, operator_name, forms, contact)


def _dialog(conn: Connection, dialog_id: int | None) -> Row | None:
    if dialog_id is None:
        return None
    return _DIALOG.first(conn, {"dialog_id": dialog_id})
