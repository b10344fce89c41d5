"""Reading the CRM: pages of leads and contacts, and a record's card with its timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from widget_server.domain.timestamps import iso
from widget_server.errors import Forbidden
from widget_server.storage.crm_tables import CrmContact, CrmLead, CrmTimelineEntry
from widget_server.storage.tables import Dialog, table_of

_crm_contacts = table_of(CrmContact)
_crm_leads = table_of(CrmLead)
_crm_timeline = table_of(CrmTimelineEntry)
_dialogs = table_of(Dialog)

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
    query = select(CrmLead).order_by(_crm_leads.c.id.desc()).limit(limit + 1)
    found = _matching(q, _crm_leads.c.id, _crm_leads.c.title, _crm_leads.c.name, _crm_leads.c.email, _crm_leads.c.phone)
    if found is not None:
        query = query.where(found)
    if line_ids is not None:
        query = query.where(_crm_leads.c.line_id.in_(line_ids))
    if before is not None:
        query = query.where(_crm_leads.c.id < before)
    rows = list((await s.execute(query)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return [lead_public(r) for r in rows], (rows[-1].id if more and rows else None)


async def page_of_contacts(
    s: AsyncSession, limit: int, before: int | None, q: str | None = None
) -> tuple[list[dict[str, Any]], int | None]:
    query = select(CrmContact).order_by(_crm_contacts.c.id.desc()).limit(limit + 1)
    found = _matching(q, _crm_contacts.c.id, _crm_contacts.c.name, _crm_contacts.c.email, _crm_contacts.c.phone)
    if found is not None:
        query = query.where(found)
    if before is not None:
        query = query.where(_crm_contacts.c.id < before)
    rows = list((await s.execute(query)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return [contact_public(r) for r in rows], (rows[-1].id if more and rows else None)


async def _timeline(s: AsyncSession, entity_type: str, entity_id: int) -> list[dict[str, Any]]:
    rows = await s.execute(
        select(CrmTimelineEntry)
        .where(
            _crm_timeline.c.entity_type == entity_type,
            _crm_timeline.c.entity_id == entity_id,
        )
        .order_by(_crm_timeline.c.id.desc())
        .limit(TIMELINE_LIMIT)
    )
    return [timeline_public(e) for e in rows.scalars()]


async def _dialogs_of(
    s: AsyncSession, column: ColumnElement[int], record_id: int, line_ids: frozenset[str] | None
) -> list[dict[str, Any]]:
    query = select(Dialog).where(column == record_id).order_by(_dialogs.c.id.desc()).limit(50)
    if line_ids is not None:
        query = query.where(_dialogs.c.line_id.in_(line_ids))
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
        "dialogs": await _dialogs_of(s, _dialogs.c.lead_id, lead_id, line_ids),
        "timeline": await _timeline(s, "lead", lead_id),
    }


async def contact_card(s: AsyncSession, contact_id: int, line_ids: frozenset[str] | None) -> dict[str, Any]:
    contact = await s.get(CrmContact, contact_id)
    if contact is None:
        raise Forbidden("No such contact")
    return {
        "contact": contact_public(contact),
        "dialogs": await _dialogs_of(s, _dialogs.c.contact_id, contact_id, line_ids),
        "timeline": await _timeline(s, "contact", contact_id),
    }
