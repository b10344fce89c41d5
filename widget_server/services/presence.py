"""Operators' presence and chat limits, kept in the database so that every process sees the same."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.domain.dialog_state import OPEN_STATUSES
from widget_server.domain.presence import (
    MAX_CHAT_LIMIT,
    OperatorLoad,
    Presence,
    effective_presence,
    nobody_can_answer,
)
from widget_server.errors import InvalidInput
from widget_server.services.context import Context
from widget_server.storage.tables import Dialog, Operator, OperatorConnection, OperatorLine, table_of

_dialogs = table_of(Dialog)
_operator_connections = table_of(OperatorConnection)
_operator_lines = table_of(OperatorLine)
_operators = table_of(Operator)

_OPEN = [st.value for st in OPEN_STATUSES]


async def console_connected(ctx: Context, operator_id: int) -> str:
    now = ctx.clock.now()
    connection_id = secrets.token_hex(16)
    async with ctx.db.write() as s:
        s.add(OperatorConnection(id=connection_id, operator_id=operator_id, created_at=now, last_seen_at=now))
    ctx.db.consoles.add(connection_id)
    return connection_id


def start_heartbeats(ctx: Context) -> None:
    """Keep the presence of this process's open consoles alive in the database (real time, seen by any process)."""
    ctx.db.consoles.start(timedelta(seconds=ctx.settings.console_heartbeat_seconds), ctx.clock.now)


async def console_disconnected(ctx: Context, connection_id: str) -> None:
    ctx.db.consoles.discard(connection_id)
    async with ctx.db.write() as s:
        await s.execute(delete(OperatorConnection).where(_operator_connections.c.id == connection_id))


async def _last_seen(s: AsyncSession, operator_ids: list[int]) -> dict[int, datetime]:
    rows = await s.execute(
        select(_operator_connections.c.operator_id, func.max(_operator_connections.c.last_seen_at))
        .where(_operator_connections.c.operator_id.in_(operator_ids))
        .group_by(_operator_connections.c.operator_id)
    )
    return {operator_id: seen for operator_id, seen in rows.all()}


async def _active_chats(s: AsyncSession, operator_ids: list[int]) -> dict[int, int]:
    rows = await s.execute(
        select(_dialogs.c.operator_id, func.count())
        .where(_dialogs.c.operator_id.in_(operator_ids), _dialogs.c.status.in_(_OPEN))
        .group_by(_dialogs.c.operator_id)
    )
    return {operator_id: count for operator_id, count in rows.all()}


async def loads(s: AsyncSession, operators: list[Operator]) -> dict[int, OperatorLoad]:
    ids = [op.id for op in operators if op.id is not None]
    seen, active = await _last_seen(s, ids), await _active_chats(s, ids)
    return {
        op.id: OperatorLoad(Presence(op.presence), seen.get(op.id), active.get(op.id, 0), op.chat_limit)
        for op in operators
        if op.id is not None
    }


def _line_loads(line_id: str) -> Select[Any]:
    """Each active operator of the line: chosen presence, chat limit, freshest heartbeat, open chats. One query."""
    last_seen = (
        select(func.max(_operator_connections.c.last_seen_at))
        .where(_operator_connections.c.operator_id == _operators.c.id)
        .scalar_subquery()
    )
    active = (
        select(func.count())
        .select_from(Dialog)
        .where(_dialogs.c.operator_id == _operators.c.id, _dialogs.c.status.in_(_OPEN))
        .scalar_subquery()
    )
    return (
        select(_operators.c.presence, _operators.c.chat_limit, last_seen, active)
        .join(OperatorLine, _operator_lines.c.operator_id == _operators.c.id)
        .where(_operator_lines.c.line_id == line_id, _operators.c.is_active == True)  # noqa: E712
    )


def _nobody(rows: Iterable[Any], now: datetime) -> bool:
    return nobody_can_answer(
        (OperatorLoad(Presence(chosen), seen, count, limit) for chosen, limit, seen, count in rows), now
    )


async def nobody_can_answer_line(s: AsyncSession, line_id: str, now: datetime) -> bool:
    # Asked on every message of a dialog nobody has taken yet.
    return _nobody((await s.execute(_line_loads(line_id))).all(), now)


def nobody_can_answer_line_now(conn: Connection, line_id: str, now: datetime) -> bool:
    """The same, on a plain connection inside a running transaction (the message batch's)."""
    return _nobody(conn.execute(_line_loads(line_id)).all(), now)


def presence_public(operator: Operator, load: OperatorLoad, now: datetime) -> dict[str, Any]:
    return {
        "status": operator.presence,
        "effective": effective_presence(load.chosen, load.last_seen_at, now).value,
        "chat_limit": operator.chat_limit,
        "active_chats": load.active_chats,
    }


async def presence_of(ctx: Context, operator_id: int) -> dict[str, Any]:
    async with ctx.db.read() as s:
        operator = await s.get(Operator, operator_id)
        assert operator is not None
        load = (await loads(s, [operator]))[operator_id]
    return presence_public(operator, load, ctx.clock.now())


async def set_presence(ctx: Context, operator_id: int, status: str | None, chat_limit: int | None) -> dict[str, Any]:
    if status is not None and status not in {p.value for p in Presence}:
        raise InvalidInput("status: one of online, away, offline")
    if chat_limit is not None and not 1 <= chat_limit <= MAX_CHAT_LIMIT:
        raise InvalidInput(f"chat_limit: between 1 and {MAX_CHAT_LIMIT}")
    async with ctx.db.write() as s:
        operator = await s.get(Operator, operator_id, with_for_update=True)
        assert operator is not None
        if status is not None:
            operator.presence = status
        if chat_limit is not None:
            operator.chat_limit = chat_limit
    return await presence_of(ctx, operator_id)
