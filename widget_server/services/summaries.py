"""Dialog summaries, the rows of the operator's list, read in one statement.

The page of dialog ids is chosen first (a subquery with the caller's conditions, order and limit); only those rows
are then enriched with their line, visitor and operator names, the last written message, the unread count and the
added operators, through correlated subqueries on indexed columns. One round trip per page, whatever its size: on
a busy machine each round trip costs more than the work it carries. Everything here is SQLAlchemy Core on the
tables (not the ORM classes): the list is the hottest read of the console, and Core costs a fraction of the CPU.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Text, and_, cast, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Subquery
from sqlalchemy.sql.elements import ColumnElement

from widget_server.domain.timestamps import iso
from widget_server.domain.visibility import WRITTEN_KINDS
from widget_server.services.payloads import visitor_display_name
from widget_server.storage.tables import Dialog, DialogOperator, Message, OpenLine, Operator, Visitor, table_of

D = table_of(Dialog).c
_dialogs = table_of(Dialog)
_messages = table_of(Message)
_last = _messages.alias("last_message")
_helper = table_of(Operator).alias("helper")
_lines = table_of(OpenLine)
_visitors = table_of(Visitor)
_operators = table_of(Operator)
_added = table_of(DialogOperator)

_LAST_SEQ = (
    select(func.max(_messages.c.seq))
    .where(_messages.c.dialog_id == D.id, _messages.c.kind.in_([k.value for k in WRITTEN_KINDS]))
    .scalar_subquery()
)
_UNREAD = (
    select(func.count())
    .select_from(_messages)
    .where(
        _messages.c.dialog_id == D.id,
        _messages.c.author_type == "visitor",
        _messages.c.seq > D.operator_seen_seq,
    )
    .scalar_subquery()
)


def _helpers_json(dialect: str) -> Any:
    pairs = ("id", _helper.c.id, "name", _helper.c.name)
    if dialect == "postgresql":
        rows = func.json_agg(aggregate_order_by(func.json_build_object(*pairs), _added.c.added_at))
        aggregate: ColumnElement[Any] = func.coalesce(cast(rows, Text), "[]")
    else:
        aggregate = func.json_group_array(func.json_object(*pairs))
    return (
        select(aggregate)
        .select_from(_added.join(_helper, _helper.c.id == _added.c.operator_id))
        .where(_added.c.dialog_id == D.id)
        .scalar_subquery()
    )


_HELPERS = {dialect: _helpers_json(dialect) for dialect in ("sqlite", "postgresql")}

_COLUMNS = (
    D.id,
    D.number,
    D.line_id,
    _lines.c.name,
    D.channel,
    D.status,
    D.visitor_id,
    _visitors.c.name,
    D.operator_id,
    _operators.c.name,
    D.waiting_since,
    D.page_url,
    D.page_title,
    _last.c.body,
    _last.c.kind,
    _last.c.author_type,
    _last.c.created_at,
    D.last_seq,
    D.visitor_seen_seq,
    D.operator_seen_seq,
    _UNREAD,
    D.created_at,
    D.updated_at,
)


def order() -> tuple[Any, Any]:
    return D.updated_at.desc(), D.id.desc()


def page_of(conditions: list[ColumnElement[bool]], limit: int) -> Subquery:
    """The ids of the dialogs meeting `conditions`, newest activity first, at most `limit`."""
    return select(D.id).where(*conditions).order_by(*order()).limit(limit).subquery("page")


async def read_summaries(conn: AsyncConnection, page: Subquery) -> list[dict[str, Any]]:
    dialect = "postgresql" if conn.dialect.name == "postgresql" else "sqlite"
    query = (
        select(*_COLUMNS, _HELPERS[dialect])
        .select_from(
            page.join(_dialogs, D.id == page.c.id)
            .join(_lines, _lines.c.id == D.line_id)
            .join(_visitors, _visitors.c.id == D.visitor_id)
            .outerjoin(_operators, _operators.c.id == D.operator_id)
            .outerjoin(_last, and_(_last.c.dialog_id == D.id, _last.c.seq == _LAST_SEQ))
        )
        .order_by(*order())
    )
    return [summary(tuple(row)) for row in await conn.execute(query)]


def summary(row: tuple[Any, ...]) -> dict[str, Any]:
    """The dialog as an operator's list shows it (docs/protocol.md, "A dialog summary")."""
    (
        dialog_id,
        number,
        line_id,
        line_name,
        channel,
        status,
        visitor_id,
        visitor_name,
        operator_id,
        operator_name,
        waiting_since,
        page_url,
        page_title,
        last_body,
        last_kind,
        last_author,
        last_at,
        last_seq,
        visitor_seen_seq,
        operator_seen_seq,
        unread,
        created_at,
        updated_at,
        helpers,
    ) = row
    if isinstance(helpers, str | bytes):
        helpers = orjson.loads(helpers)
    return {
        "id": dialog_id,
        "number": number,
        "line": {"id": line_id, "name": line_name},
        "channel": channel,
        "status": status,
        "visitor": {"id": visitor_id, "name": visitor_display_name(visitor_id, visitor_name)},
        "operator": None if operator_id is None else {"id": operator_id, "name": operator_name},
        "operators": helpers or [],
        "unanswered": waiting_since is not None,
        "waiting_since": iso(waiting_since) if waiting_since else None,
        "page": {"url": page_url, "title": page_title},
        "last_message": None
        if last_body is None
        else {"text": last_body[:200], "kind": last_kind, "author_type": last_author, "created_at": iso(last_at)},
        "last_seq": last_seq,
        "visitor_seen_seq": visitor_seen_seq,
        "operator_seen_seq": operator_seen_seq,
        "unread": unread or 0,
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
    }
