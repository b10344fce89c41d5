"""Open lines: what a site embeds."""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from widget_server.domain.origins import normalize_origin
from widget_server.domain.timestamps import iso
from widget_server.errors import Conflict, InvalidInput, NotFound
from widget_server.services import audit
from widget_server.services.context import Context
from widget_server.services.operators import OperatorIdentity
from widget_server.storage import welcome_read
from widget_server.storage.snapshots import LineSnapshot, LineView
from widget_server.storage.tables import OpenLine, OperatorLine, table_of

_open_lines = table_of(OpenLine)

_LINE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


def clean_origins(origins: list[str]) -> list[str]:
    cleaned = []
    for entry in origins:
        normalized = normalize_origin(entry)
        if normalized is None:
            raise InvalidInput(f"allowed_origins: {entry!r} is not an origin like https://shop.example")
        cleaned.append(normalized)
    return sorted(set(cleaned))


def line_public(line: LineView) -> dict[str, Any]:
    return {
        "id": line.id,
        "name": line.name,
        "greeting": line.greeting,
        "language": line.language,
        "time_zone": line.time_zone,
        "allowed_origins": line.allowed_origins,
        "settings": line.settings,
        "created_at": iso(line.created_at),
    }


async def create_line(
    ctx: Context,
    name: str,
    allowed_origins: list[str],
    greeting: str = "",
    language: str = "en",
    line_id: str | None = None,
    settings: dict[str, Any] | None = None,
    time_zone: str = "UTC",
    actor: OperatorIdentity | None = None,
) -> OpenLine:
    line_id = line_id or "ln_" + secrets.token_hex(6)
    if not _LINE_ID.match(line_id):
        raise InvalidInput("id: 2 to 64 characters of a-z, 0-9, _ and -")
    line = OpenLine(
        id=line_id,
        name=name.strip(),
        greeting=greeting.strip(),
        language=language,
        time_zone=time_zone,
        allowed_origins=clean_origins(allowed_origins),
        secret=secrets.token_urlsafe(32),
        settings=settings or {},
        created_at=ctx.clock.now(),
    )
    try:
        async with ctx.db.write() as s:
            s.add(line)
            if actor is not None:
                details = {
                    "name": line.name,
                    "allowed_origins": line.allowed_origins,
                    "language": language,
                    "time_zone": time_zone,
                }
                await audit.record(ctx, s, actor, "line.create", "line", line_id, details)
    except IntegrityError:
        raise Conflict(f"id: a line {line_id!r} exists", "exists") from None
    return line


async def get_line(ctx: Context, line_id: str) -> LineSnapshot:
    """The line as a detached, read-only snapshot, as it is now or up to a second ago (line_cache.py).

    For the visitor's socket (every connection reads it before the handshake, and a storm of connections after a
    deploy would wait on the session pool for ORM instances) and the visitor's uploads; the connections of a line
    share one snapshot.
    """

    async def load(wanted: str) -> LineSnapshot | None:
        row = await ctx.db.run_read(welcome_read.read_line, wanted)
        return LineSnapshot(**row) if row is not None else None

    line = await ctx.lines.get(line_id, load) if line_id else None
    if line is None:
        raise NotFound("No such line", "unknown_line")
    return line


async def list_lines(ctx: Context, only: frozenset[str] | None = None) -> list[OpenLine]:
    async with ctx.db.read() as s:
        query = select(OpenLine).order_by(_open_lines.c.created_at)
        if only is not None:
            query = query.where(_open_lines.c.id.in_(only))
        return list((await s.execute(query)).scalars())


async def update_line(
    ctx: Context, line_id: str, changes: dict[str, Any], actor: OperatorIdentity | None = None
) -> OpenLine:
    async with ctx.db.write() as s:
        line = await s.get(OpenLine, line_id)
        if line is None:
            raise NotFound("No such line", "unknown_line")
        if "allowed_origins" in changes:
            changes["allowed_origins"] = clean_origins(changes["allowed_origins"])
        if "settings" in changes:
            # A patch of some settings; a new dict, so that the JSON column is seen as changed.
            changes["settings"] = {**line.settings, **changes["settings"]}
        changed = {k: {"from": getattr(line, k), "to": v} for k, v in changes.items() if getattr(line, k) != v}
        for key, value in changes.items():
            setattr(line, key, value)
        if actor is not None and changed:
            await audit.record(ctx, s, actor, "line.update", "line", line_id, {"changed": changed})
    ctx.lines.forget(line_id)
    return line


async def add_operator_to_line(ctx: Context, operator_id: int, line_id: str) -> None:
    async with ctx.db.write() as s:
        exists = await s.get(OperatorLine, (operator_id, line_id))
        if exists is None:
            s.add(OperatorLine(operator_id=operator_id, line_id=line_id))
