"""Visitors are known by a random token the widget keeps; nothing else identifies them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.services.context import Context
from widget_server.services.tokens import new_token, token_hash
from widget_server.storage.tables import Visitor, VisitorToken


@dataclass(frozen=True)
class Identified:
    visitor: Visitor
    token: str
    is_new: bool
    token_was_invalid: bool


async def visitor_for_token(s: AsyncSession, token: str) -> Visitor | None:
    """The visitor holding this token: their first one, or one issued later by an e-mail's link."""
    hashed = token_hash(token)
    visitor = (await s.execute(select(Visitor).where(Visitor.token_hash == hashed))).scalar_one_or_none()
    if visitor is None:
        extra = await s.get(VisitorToken, hashed)
        visitor = await s.get(Visitor, extra.visitor_id) if extra is not None else None
    return visitor


async def identify(ctx: Context, token: str | None, language: str | None, user_agent: str | None) -> Identified:
    now = ctx.clock.now()
    if token:
        async with ctx.db.read() as s:
            visitor = await visitor_for_token(s, token)
        if visitor is not None:
            assert visitor.id is not None
            # Group-committed with the other hellos of the moment: a storm of returning visitors must not
            # queue one by one for the writer.
            await ctx.db.visitors_seen.record(visitor.id, now, language)
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
