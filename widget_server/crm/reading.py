"""Reading the CRM: pages of leads and contacts, and a record's card with its timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.domain.timestamps import iso
from widget_server.errors import Forbidden
from widget_server.storage.crm_tables import CrmContact, CrmLead, CrmTimelineEntry
from widget_server.storage.tables import Dialog

TIMELINE_LIMIT = 200


def lead_public(lead: CrmLead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "title": lead.title,
        "status": lead.status,
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "source": lead.source,
        "line_id": lead.line_id,
        "page_url": lead.page_url,
        "dialog_id": lead.dialog_id,
        "contact_id": lead.contact_id,
        "created_at": iso(lead.created_at),
        "updated_at": iso(lead.updated_at),
    }


def contact_public(contact: CrmContact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "company_id": contact.company_id,
        "source": contact.source,
        "created_at": iso(contact.created_at),
        "updated_at": iso(contact.updated_at),
    }


def timeline_public(entry: CrmTimelineEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind,
        "text": entry.text,
        "dialog_id": entry.dialog_id,
        "data": entry.data,
        "created_at": iso(entry.created_at),
    }


def _matching(q: str | None, id_column: Any, *columns: Any) -> Any:
    """Records whose number is `q`, or whose text columns contain it (case-insensitive; `%` and `_` literal)."""
    q = (q or "").strip()[:100]
    if not q:
        return None
    conditions = [func.lower(c).contains(q.lower(), autoescape=True) for c in columns]
    if q.lstrip("#").isdigit() and len(q) < 10:
        conditions.append(id_column == int(q.lstrip("#")))
    return or_(*conditions)


async def page_of_leads(
    s: AsyncSession, line_ids: frozenset[str] | None, limit: int, before: int | None, q: str | None = None
) -> tuple[list[dict[str, Any]], int | None]:
    """Newest first; `before` is the cursor (an id) from the previous page's `next`; `q` narrows (the link picker)."""
    query = select(CrmLead).order_by(CrmLead.id.desc()).limit(limit + 1)  # type: ignore[union-attr]
    found = _matching(q, CrmLead.id, CrmLead.title, CrmLead.name, CrmLead.email, CrmLead.phone)
    if found is not None:
        query = query.where(found)
    if line_ids is not None:
        query = query.where(CrmLead.line_id.in_(line_ids))  # type: ignore[union-attr]
    if before is not None:
        query = query.where(CrmLead.id < before)  # type: ignore[operator]
    rows = list((await s.execute(query)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return [lead_public(r) for r in rows], (rows[-1].id if more and rows else None)


async def page_of_contacts(
    s: AsyncSession, limit: int, before: int | None, q: str | None = None
) -> tuple[list[dict[str, Any]], int | None]:
    query = select(CrmContact).order_by(CrmContact.id.desc()).limit(limit + 1)  # type: ignore[union-attr]
    found = _matching(q, CrmContact.id, CrmContact.name, CrmContact.email, CrmContact.phone)
    if found is not None:
        query = query.where(found)
    if before is not None:
        query = query.where(CrmContact.id < before)  # type: ignore[operator]
    rows = list((await s.execute(query)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return [contact_public(r) for r in rows], (rows[-1].id if more and rows else None)


async def _timeline(s: AsyncSession, entity_type: str, entity_id: int) -> list[dict[str, Any]]:
    rows = await s.execute(
        select(CrmTimelineEntry)
        .where(
            CrmTimelineEntry.entity_type == entity_type,  # type: ignore[arg-type]
            CrmTimelineEntry.entity_id == entity_id,  # type: ignore[arg-type]
        )
        .order_by(CrmTimelineEntry.id.desc())  # type: ignore[union-attr]
        .limit(TIMELINE_LIMIT)
    )
    return [timeline_public(e) for e in rows.scalars()]


async def _dialogs(
    s: AsyncSession, column: Any, record_id: int, line_ids: frozenset[str] | None
) -> list[dict[str, Any]]:
    query = select(Dialog).where(column == record_id).order_by(Dialog.id.desc()).limit(50)  # type: ignore[union-attr]
    if line_ids is not None:
        query = query.where(Dialog.line_id.in_(line_ids))  # type: ignore[attr-defined]
    return [
        {"id": d.id, "number": d.number, "line_id": d.line_id, "status": d.status}
        for d in (await s.execute(query)).scalars()
    ]


async def lead_card(s: AsyncSession, lead_id: int, line_ids: frozenset[str] | None) -> dict[str, Any]:
    lead = await s.get(CrmLead, lead_id)
    if lead is None or (line_ids is not None and lead.line_id not in line_ids):
        raise Forbidden("No such lead on your lines")
    return {
        "lead": lead_public(lead),
        "dialogs": await _dialogs(s, Dialog.lead_id, lead_id, line_ids),
        "timeline": await _timeline(s, "lead", lead_id),
    }


async def contact_card(s: AsyncSession, contact_id: int, line_ids: frozenset[str] | None) -> dict[str, Any]:
    contact = await s.get(CrmContact, contact_id)
    if contact is None:
        raise Forbidden("No such contact")
    return {
        "contact": contact_public(contact),
        "dialogs": await _dialogs(s, Dialog.contact_id, contact_id, line_ids),
        "timeline": await _timeline(s, "contact", contact_id),
    }
