"""Canned replies: ready answers per line, inserted by picking them or by typing `/shortcut` in the composer.

Operators read the replies of their lines; admins write them.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from widget_server.domain.permissions import Action, allowed, sees_line
from widget_server.domain.timestamps import iso
from widget_server.errors import Conflict, Forbidden, InvalidInput, NotFound
from widget_server.services import audit
from widget_server.services.context import Context
from widget_server.services.operators import OperatorIdentity
from widget_server.storage.tables import CannedReply, OpenLine, table_of

_canned_replies = table_of(CannedReply)

SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def canned_public(reply: CannedReply) -> dict[str, Any]:
    return {
        "id": reply.id,
        "line_id": reply.line_id,
        "shortcut": reply.shortcut,
        "title": reply.title,
        "text": reply.body,
        "updated_at": iso(reply.updated_at),
    }


def _check_shortcut(shortcut: str) -> str:
    shortcut = shortcut.strip().lstrip("/").lower()
    if not SHORTCUT.match(shortcut):
        raise InvalidInput("shortcut: 1 to 32 of a-z, 0-9, _ and -, starting with a letter or digit")
    return shortcut


def _check_admin(who: OperatorIdentity) -> None:
    if not allowed(who.role, Action.MANAGE_CANNED):
        raise Forbidden("Only admins manage canned replies")


async def list_for_line(ctx: Context, who: OperatorIdentity, line_id: str) -> list[dict[str, Any]]:
    if not sees_line(who.role, who.line_ids, line_id):
        raise Forbidden("Not your line")
    async with ctx.db.read() as s:
        rows = await s.execute(
            select(CannedReply).where(_canned_replies.c.line_id == line_id).order_by(_canned_replies.c.shortcut)
        )
        return [canned_public(r) for r in rows.scalars()]


async def create(
    ctx: Context, who: OperatorIdentity, line_id: str, shortcut: str, title: str, text: str
) -> dict[str, Any]:
    _check_admin(who)
    now = ctx.clock.now()
    reply = CannedReply(
        line_id=line_id,
        shortcut=_check_shortcut(shortcut),
        title=title.strip() or shortcut,
        body=text.strip(),
        created_at=now,
        updated_at=now,
    )
    try:
        async with ctx.db.write() as s:
            if await s.get(OpenLine, line_id) is None:
                raise NotFound("No such line", "unknown_line")
            s.add(reply)
    except IntegrityError:
        raise Conflict(f"shortcut: /{reply.shortcut} exists on this line", "exists") from None
    return canned_public(reply)


async def update(ctx: Context, who: OperatorIdentity, reply_id: int, changes: dict[str, str]) -> dict[str, Any]:
    _check_admin(who)
    try:
        async with ctx.db.write() as s:
            reply = await s.get(CannedReply, reply_id)
            if reply is None:
                raise NotFound("No such canned reply", "unknown_canned")
            if "shortcut" in changes:
                reply.shortcut = _check_shortcut(changes["shortcut"])
            if "title" in changes:
                reply.title = changes["title"].strip() or reply.shortcut
            if "text" in changes:
                reply.body = changes["text"].strip()
            reply.updated_at = ctx.clock.now()
    except IntegrityError:
        raise Conflict("shortcut: exists on this line", "exists") from None
    return canned_public(reply)


async def remove(ctx: Context, who: OperatorIdentity, reply_id: int) -> None:
    _check_admin(who)
    async with ctx.db.write() as s:
        reply = await s.get(CannedReply, reply_id)
        if reply is None:
            raise NotFound("No such canned reply", "unknown_canned")
        # The text too: the entry is the only way back to a reply deleted by mistake.
        details = {"line_id": reply.line_id, "shortcut": reply.shortcut, "title": reply.title, "text": reply.body}
        await audit.record(ctx, s, who, "canned.delete", "canned", str(reply_id), details)
        await s.delete(reply)
