"""Links between a dialog and CRM records: leads, contacts (clients), orders.

One table (`dialog_links`) holds every kind, keyed by the record's type and id. Each kind registers how to check
that a record exists and how to name it. A lead or a contact is also *the dialog's* lead or client
(`dialogs.lead_id` / `dialogs.contact_id`, which the CRM's cards and the contact forms' matching read) when the
dialog has none yet: linking by hand and leaving contacts in a form then tell the same story.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.domain.timestamps import iso
from widget_server.domain.visibility import Kind
from widget_server.errors import InvalidInput, NotFound
from widget_server.i18n import gettext
from widget_server.services.context import Context
from widget_server.services.dialog_messages import (
    Author,
    Outcome,
    append_message,
    dialog_events,
    line_language,
    lock_dialog,
    message_event,
)
from widget_server.services.dialogs import check_operator_access
from widget_server.services.operators import OperatorIdentity
from widget_server.services.unit_of_work import publishes
from widget_server.storage.crm_tables import CrmContact, CrmLead
from widget_server.storage.tables import Dialog, DialogLink, Order, table_of

_crm_contacts = table_of(CrmContact)
_crm_leads = table_of(CrmLead)
_dialog_links = table_of(DialogLink)
_dialogs = table_of(Dialog)
_orders = table_of(Order)

# Given a session and record ids: {id: title} of those that exist.
Namer = Callable[[AsyncSession, list[int]], Awaitable[dict[int, str]]]


@dataclass(frozen=True)
class LinkKind:
    name: str
    label: str
    titles: Namer
    dialog_column: str | None = None  # the dialog's own pointer to such a record, if it has one


_KINDS: dict[str, LinkKind] = {}


def register(kind: LinkKind) -> None:
    _KINDS[kind.name] = kind


def kinds() -> list[dict[str, str]]:
    return [{"type": k.name, "label": k.label} for k in _KINDS.values()]


async def _order_titles(s: AsyncSession, ids: list[int]) -> dict[int, str]:
    rows = await s.execute(select(_orders.c.id, _orders.c.title).where(_orders.c.id.in_(ids)))
    return {order_id: f"Order #{order_id}: {title}" for order_id, title in rows.all()}


async def _lead_titles(s: AsyncSession, ids: list[int]) -> dict[int, str]:
    rows = await s.execute(select(_crm_leads.c.id, _crm_leads.c.title).where(_crm_leads.c.id.in_(ids)))
    return {lead_id: f"Lead #{lead_id}: {title}" for lead_id, title in rows.all()}


async def _contact_titles(s: AsyncSession, ids: list[int]) -> dict[int, str]:
    rows = await s.execute(
        select(_crm_contacts.c.id, _crm_contacts.c.name, _crm_contacts.c.email, _crm_contacts.c.phone).where(
            _crm_contacts.c.id.in_(ids)
        )
    )
    return {
        contact_id: f"Contact #{contact_id}: {name or email or phone or 'no name'}"
        for contact_id, name, email, phone in rows.all()
    }


register(LinkKind("lead", "Lead", _lead_titles, dialog_column="lead_id"))
register(LinkKind("contact", "Client", _contact_titles, dialog_column="contact_id"))
register(LinkKind("order", "Order", _order_titles))


def _kind(entity_type: str) -> LinkKind:
    kind = _KINDS.get(entity_type)
    if kind is None:
        raise InvalidInput(f"entity_type: one of {', '.join(_KINDS)}", "unknown_entity_type")
    return kind


@publishes
async def link(ctx: Context, who: OperatorIdentity, dialog_id: int, entity_type: str, entity_id: int) -> Outcome:
    kind = _kind(entity_type)
    await check_operator_access(ctx, who, dialog_id)
    async with ctx.db.write() as s:
        titles = await kind.titles(s, [entity_id])
        if entity_id not in titles:
            raise NotFound(f"No such {kind.label.lower()}", f"unknown_{kind.name}")
        dialog = await lock_dialog(s, dialog_id)
        assert dialog is not None
        outcome = Outcome(dialog)
        existing = (
            await s.execute(
                select(DialogLink).where(
                    _dialog_links.c.dialog_id == dialog_id,
                    _dialog_links.c.entity_type == entity_type,
                    _dialog_links.c.entity_id == entity_id,
                )
            )
        ).scalar_one_or_none()
        if existing is not None:
            outcome.duplicate, outcome.seq = True, dialog.last_seq
            return outcome
        # The dialog's row lock orders concurrent links of one dialog, so the check above cannot race.
        if kind.dialog_column is not None and getattr(dialog, kind.dialog_column) is None:
            setattr(dialog, kind.dialog_column, entity_id)
        s.add(
            DialogLink(
                dialog_id=dialog_id,
                entity_type=entity_type,
                entity_id=entity_id,
                created_by=who.id,
                created_at=ctx.clock.now(),
            )
        )
        text = gettext(
            await line_language(s, dialog),
            "{name} linked the chat to {record}",
            name=who.name,
            record=titles[entity_id],
        )
        notice = await append_message(ctx, s, dialog, Author("system"), text, kind=Kind.INTERNAL.value, code="linked")
        outcome.events.append(message_event(ctx, dialog, notice, None))
        outcome.seq = notice.seq
    outcome.events[0:0] = await dialog_events(ctx, dialog)
    return outcome


@publishes
async def unlink(ctx: Context, who: OperatorIdentity, dialog_id: int, link_id: int) -> Outcome:
    await check_operator_access(ctx, who, dialog_id)
    async with ctx.db.write() as s:
        dialog = await lock_dialog(s, dialog_id)
        assert dialog is not None
        row = await s.get(DialogLink, link_id)
        if row is None or row.dialog_id != dialog_id:
            raise NotFound("No such link on this dialog", "unknown_link")
        kind = _KINDS.get(row.entity_type)
        titles = await kind.titles(s, [row.entity_id]) if kind else {}
        record = titles.get(row.entity_id, f"{row.entity_type} #{row.entity_id}")
        if kind is not None and kind.dialog_column is not None and getattr(dialog, kind.dialog_column) == row.entity_id:
            setattr(dialog, kind.dialog_column, None)
        await s.delete(row)
        outcome = Outcome(dialog)
        text = gettext(await line_language(s, dialog), "{name} unlinked {record}", name=who.name, record=record)
        notice = await append_message(ctx, s, dialog, Author("system"), text, kind=Kind.INTERNAL.value, code="unlinked")
        outcome.events.append(message_event(ctx, dialog, notice, None))
        outcome.seq = notice.seq
    outcome.events[0:0] = await dialog_events(ctx, dialog)
    return outcome


async def current_links(ctx: Context, dialog_id: int) -> list[dict[str, Any]]:
    async with ctx.db.read() as s:
        return await links_of(s, dialog_id)


async def links_of(s: AsyncSession, dialog_id: int) -> list[dict[str, Any]]:
    rows = list(
        (
            await s.execute(
                select(DialogLink).where(_dialog_links.c.dialog_id == dialog_id).order_by(_dialog_links.c.id)
            )
        ).scalars()
    )
    by_type: dict[str, list[int]] = {}
    for row in rows:
        by_type.setdefault(row.entity_type, []).append(row.entity_id)
    titles: dict[tuple[str, int], str] = {}
    for entity_type, ids in by_type.items():
        kind = _KINDS.get(entity_type)
        if kind is not None:
            for entity_id, title in (await kind.titles(s, ids)).items():
                titles[(entity_type, entity_id)] = title
    return [
        {
            "id": row.id,
            "entity_type": row.entity_type,
            "entity_id": row.entity_id,
            "title": titles.get((row.entity_type, row.entity_id), f"{row.entity_type} #{row.entity_id} (gone)"),
            "created_at": iso(row.created_at),
        }
        for row in rows
    ]


async def dialogs_linked_to(ctx: Context, who: OperatorIdentity, entity_type: str, entity_id: int) -> list[int]:
    """The dialogs (of the caller's lines) linked to a record: a record's card lists its chats."""
    async with ctx.db.read() as s:
        rows = await s.execute(
            select(_dialog_links.c.dialog_id)
            .join(Dialog, _dialogs.c.id == _dialog_links.c.dialog_id)
            .where(
                _dialog_links.c.entity_type == entity_type,
                _dialog_links.c.entity_id == entity_id,
                _dialogs.c.line_id.in_(who.line_ids),
            )
            .order_by(_dialog_links.c.dialog_id.desc())
        )
        return list(rows.scalars())
