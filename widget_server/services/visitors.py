"""Visitors are known by a random token the widget keeps; nothing else identifies them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel import Locale
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.services.context import Context
from widget_server.services.tokens import new_token, token_hash
from widget_server.storage import welcome_read
from widget_server.storage.snapshots import VisitorSnapshot, VisitorView
from widget_server.storage.tables import Visitor, table_of


@dataclass(frozen=True)
class Identified:
    visitor: VisitorView
    token: str
    is_new: bool
    token_was_invalid: bool


# Set by a CDN or reverse proxy in front of the server (Cloudflare, CloudFront, or a proxy's own GeoIP module).
_COUNTRY_HEADERS = ("cf-ipcountry", "cloudfront-viewer-country", "x-country-code", "x-geoip-country")
_CITY_HEADERS = ("cf-ipcity", "cloudfront-viewer-city", "x-city", "x-geoip-city")


def location_from_headers(headers: Mapping[str, str]) -> str | None:
    """ "Lisbon, Portugal" from the proxy's geo headers, if there are any. Shown to operators as a hint only."""
    code = next((headers[h].strip().upper() for h in _COUNTRY_HEADERS if headers.get(h)), "")
    city = next((headers[h].strip() for h in _CITY_HEADERS if headers.get(h)), "")
    country = Locale("en").territories.get(code) if len(code) == 2 and code.isalpha() and code != "XX" else None
    parts = [p for p in (city[:80], country) if p and p.isprintable()]
    return ", ".join(parts) or None


async def visitor_for_token(s: AsyncSession, token: str) -> Visitor | None:
    """`welcome_read.visitor_for_token` (the one rule for which visitor holds a token), in the session's
    transaction, as the session's row."""
    hashed = token_hash(token)
    found = await s.run_sync(lambda sync: welcome_read.visitor_for_token(sync.connection(), hashed))
    return await s.get(Visitor, found["id"]) if found is not None else None


async def find_by_token(ctx: Context, token: str) -> Visitor | None:
    async with ctx.db.read() as s:
        return await visitor_for_token(s, token)


async def identify(
    ctx: Context,
    token: str | None,
    language: str | None,
    user_agent: str | None,
    location: str | None = None,
) -> Identified:
    found = await ctx.db.run_read(welcome_read.visitor_for_token, token_hash(token)) if token else None
    return await identified(ctx, found, token, language, user_agent, location)


async def identified(
    ctx: Context,
    found: Mapping[str, Any] | None,
    token: str | None,
    language: str | None,
    user_agent: str | None,
    location: str | None = None,
) -> Identified:
    """`identify` with the token's visitor already read (`found`, its row; None: the token is unknown or absent)."""
    now = ctx.clock.now()
    if token and found is not None:
        # Group-committed with the other hellos of the moment: a storm of returning visitors must not queue one
        # by one for the writer. Nor does the welcome wait for it: nothing in it depends on the row, and behind the
        # writer's queue (message batches, jobs) that wait was most of a returning visitor's time to be welcomed.
        user_agent = user_agent[:500] if user_agent else None
        ctx.db.visitors_seen.remember(found["id"], now, language, user_agent, location)
        # A detached snapshot with the table's attributes: the session only reads it, and an ORM instance costs
        # more to build (~0.3 ms, measured) than the read it came from.
        seen = VisitorSnapshot(
            **{
                **found,
                "last_seen_at": now,
                "language": language or found["language"],
                "user_agent": user_agent or found["user_agent"],
                "location": location or found["location"],
            }
        )
        return Identified(seen, token, is_new=False, token_was_invalid=False)
    fresh = new_token()
    visitor = Visitor(
        token_hash=token_hash(fresh),
        language=language,
        user_agent=(user_agent or "")[:500] or None,
        location=location,
        created_at=now,
        last_seen_at=now,
    )
    # One statement in one trip to the writer, not an ORM session (a round trip per statement through aiosqlite and
    # a flush): a new visitor's hello cost 3.5 ms of CPU, 2 of them on the event loop (bench/notes.md).
    visitor.id = await ctx.db.run_write(_insert_visitor, visitor.model_dump(exclude={"id"}))
    return Identified(visitor, fresh, is_new=True, token_was_invalid=bool(token))


_INSERT_VISITOR = table_of(Visitor).insert()


def _insert_visitor(conn: Connection, row: dict[str, Any]) -> int:
    key = conn.execute(_INSERT_VISITOR, row).inserted_primary_key
    assert key is not None  # a single-row INSERT has it
    return int(key[0])
