"""What the console reads of the CRM: pages of leads and contacts, and their cards (crm/reading.py)."""

from __future__ import annotations

from typing import Any

from widget_server.crm import reading
from widget_server.services.context import Context
from widget_server.services.operators import OperatorIdentity


def _lines(who: OperatorIdentity) -> frozenset[str] | None:
    return None if who.is_admin else who.line_ids


async def leads(
    ctx: Context, who: OperatorIdentity, limit: int, before: int | None, q: str | None
) -> tuple[list[dict[str, Any]], int | None]:
    async with ctx.db.read() as s:
        return await reading.page_of_leads(s, _lines(who), limit, before, q)


async def lead_card(ctx: Context, who: OperatorIdentity, lead_id: int) -> dict[str, Any]:
    async with ctx.db.read() as s:
        return await reading.lead_card(s, lead_id, _lines(who))


async def contacts(
    ctx: Context, limit: int, before: int | None, q: str | None
) -> tuple[list[dict[str, Any]], int | None]:
    async with ctx.db.read() as s:
        return await reading.page_of_contacts(s, limit, before, q)


async def contact_card(ctx: Context, who: OperatorIdentity, contact_id: int) -> dict[str, Any]:
    async with ctx.db.read() as s:
        return await reading.contact_card(s, contact_id, _lines(who))
