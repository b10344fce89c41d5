"""Visitors are known by a random token the widget keeps; nothing else identifies them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from widget_server.services.context import Context
from widget_server.services.tokens import new_token, token_hash
from widget_server.storage.tables import Visitor


@dataclass(frozen=True)
class Identified:
    visitor: Visitor
    token: str
    is_new: bool
    token_was_invalid: bool


async def identify(ctx: Context, token: str | None, language: str | None, user_agent: str | None) -> Identified:
    now = ctx.clock.now()
    if token:
        async with ctx.db.write() as s:
            visitor = (
                await s.execute(select(Visitor).where(Visitor.token_hash == token_hash(token)))
            ).scalar_one_or_none()
            if visitor is not None:
                visitor.last_seen_at = now
                if language:
                    visitor.language = language
                return Identified(visitor, token, is_new=False, token_was_invalid=False)
    fresh = new_token()
    visitor = Visitor(
        token_hash=token_hash(fresh),
        language=language,
        user_agent=(user_agent or "")[:500] or None,
        created_at=now,
        last_seen_at=now,
    )
    async with ctx.db.write() as s:
        s.add(visitor)
    return Identified(visitor, fresh, is_new=True, token_was_invalid=bool(token))
