"""The built-in CRM on Openline's own tables (`storage/crm_tables.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from widget_server.clock import Clock
from widget_server.crm.interface import ChatContact, Recorded, RecordRef
from widget_server.domain.contact_fields import email_key
from widget_server.domain.contact_merge import Candidate, ContactData, MergePlan, RecordKind, plan_merge
from widget_server.storage.crm_tables import CrmContact, CrmLead, CrmTimelineEntry
from widget_server.storage.tables import table_of

_crm_contacts = table_of(CrmContact)
_crm_leads = table_of(CrmLead)

WEBSITE_CHAT = "website_chat"
OPEN_LEAD = "new"
CONVERTED = "converted"

Record = CrmContact | CrmLead
_LABELS = {"name": "name", "email": "e-mail", "phone": "phone"}


def _data(record: Record) -> ContactData:
    return ContactData(name=record.name, email=record.email, phone=record.phone)


def lead_title(data: ContactData) -> str:
    who = data.name or data.email or data.phone or "visitor"
    return f"Website chat: {who}"[:300]


def contact_title(contact: CrmContact) -> str:
    return contact.name or contact.email or contact.phone or f"Contact #{contact.id}"


def _describe(values: dict[str, str]) -> str:
    return ", ".join(f"{_LABELS[k]} {v}" for k, v in values.items())


class BuiltinCrm:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def _serialize_same_person(self, s: AsyncSession, given: ContactData) -> None:
        """Two dialogs leaving the same new e-mail (or phone) at once must make one lead, not two.

        Row locks cannot help when there is no row yet, so on PostgreSQL each transaction takes a lock named by the
        e-mail and the phone (in one order, so two of them cannot deadlock) until it commits; the second then finds
        the first one's lead. SQLite has one writer at a time already.
        """
        if s.get_bind().dialect.name != "postgresql":
            return
        keys = sorted(
            ([f"crm:email:{email_key(given.email)}"] if given.email else [])
            + ([f"crm:phone:{given.phone}"] if given.phone else [])
        )
        for key in keys:
            await s.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})

    async def _candidates(self, s: AsyncSession, contact: ChatContact) -> dict[tuple[RecordKind, int], Record]:
        given = contact.data
        await self._serialize_same_person(s, given)
        found: dict[tuple[RecordKind, int], Record] = {}
        searches: tuple[tuple[type[Record], Table, RecordKind], ...] = (
            (CrmContact, _crm_contacts, RecordKind.CONTACT),
            (CrmLead, _crm_leads, RecordKind.LEAD),
        )
        for model, table, kind in searches:
            tests: list[ColumnElement[bool]] = []
            if given.email:
                tests.append(table.c.email_key == email_key(given.email))
            if given.phone:
                tests.append(table.c.phone == given.phone)
            if not tests:
                continue
            query = select(model).where(or_(*tests)).order_by(table.c.id).limit(20)
            if model is CrmLead:
                query = query.where(_crm_leads.c.status == OPEN_LEAD)
            for record in (await s.execute(query.with_for_update())).scalars():
                # The query is typed by the models' common base (SQLModel); each row is the model asked for.
                assert isinstance(record, CrmContact | CrmLead) and record.id is not None
                found[(kind, record.id)] = record
        if contact.linked_contact_id is not None:
            linked = await s.get(CrmContact, contact.linked_contact_id, with_for_update=True)
            if linked is not None:
                found[(RecordKind.CONTACT, contact.linked_contact_id)] = linked
        if contact.linked_lead_id is not None:
            lead = await s.get(CrmLead, contact.linked_lead_id, with_for_update=True)
            if lead is not None and lead.status == OPEN_LEAD:
                found[(RecordKind.LEAD, contact.linked_lead_id)] = lead
        return found

    def _linked(self, contact: ChatContact, kind: RecordKind, record_id: int) -> bool:
        if contact.linked_contact_id is not None:
            # Once the dialog belongs to a client, a lead of it is history, not a place to merge into.
            return kind is RecordKind.CONTACT and record_id == contact.linked_contact_id
        return kind is RecordKind.LEAD and record_id == contact.linked_lead_id

    async def record_chat_contact(self, s: AsyncSession, contact: ChatContact) -> Recorded:
        now = self.clock.now()
        records = await self._candidates(s, contact)
        candidates = [
            Candidate(kind, record_id, _data(record), self._linked(contact, kind, record_id))
            for (kind, record_id), record in records.items()
        ]
        plan = plan_merge(contact.data, candidates)
        conflicts = await self._note_conflicts(s, plan, contact, now)
        if plan.target is None:
            lead = await self._create_lead(s, contact, plan, now)
            assert lead.id is not None
            return Recorded(RecordRef("lead", lead.id, lead.title), True, plan.fill, plan.kept, conflicts)
        record = records[(plan.target.kind, plan.target.id)]
        self._apply(record, plan.fill, now)
        origin = f"dialog #{contact.dialog_number}"
        kind = plan.target.kind.value
        if plan.fill:
            text = f"Filled from {origin}: {_describe(plan.fill)}"
            await self._timeline(s, kind, plan.target.id, "filled", text, contact, now, plan)
        if plan.kept:
            text = f"Not written (the card keeps its own): {_describe(plan.kept)}, given in {origin}"
            await self._timeline(s, kind, plan.target.id, "kept", text, contact, now, plan)
        newly_linked = not plan.target.linked
        if newly_linked:
            await self._timeline(s, kind, plan.target.id, "dialog_linked", f"Linked to {origin}", contact, now, plan)
        if plan.retire_lead is not None:
            await self._convert_lead(s, records, plan, contact, now)
        title = record.title if isinstance(record, CrmLead) else contact_title(record)
        return Recorded(RecordRef(kind, plan.target.id, title), False, plan.fill, plan.kept, conflicts)

    def _apply(self, record: Record, fill: dict[str, str], now: datetime) -> None:
        for name, value in fill.items():
            setattr(record, name, value)
            if name == "email":
                record.email_key = email_key(value)
        if fill:
            record.updated_at = now

    async def _create_lead(self, s: AsyncSession, contact: ChatContact, plan: MergePlan, now: datetime) -> CrmLead:
        lead = CrmLead(
            title=lead_title(plan.merged),
            status=OPEN_LEAD,
            source=WEBSITE_CHAT,
            line_id=contact.line_id,
            page_url=contact.page_url,
            dialog_id=contact.dialog_id,
            created_at=now,
            updated_at=now,
        )
        self._apply(lead, plan.fill, now)
        s.add(lead)
        await s.flush()
        assert lead.id is not None
        text = f"Created from website chat, dialog #{contact.dialog_number}: {_describe(plan.fill) or 'no contacts'}"
        await self._timeline(s, "lead", lead.id, "created", text, contact, now, plan)
        if plan.kept:
            text = f"Not written (they belong to another client): {_describe(plan.kept)}"
            await self._timeline(s, "lead", lead.id, "kept", text, contact, now, plan)
        return lead

    async def _convert_lead(
        self,
        s: AsyncSession,
        records: dict[tuple[RecordKind, int], Record],
        plan: MergePlan,
        c: ChatContact,
        now: datetime,
    ) -> None:
        assert plan.retire_lead is not None and plan.target is not None
        lead = records[(RecordKind.LEAD, plan.retire_lead.id)]
        assert isinstance(lead, CrmLead)
        lead.status, lead.contact_id, lead.updated_at = CONVERTED, plan.target.id, now
        await self._timeline(
            s, "lead", plan.retire_lead.id, "converted", f"Merged into contact #{plan.target.id}", c, now
        )
        text = f"Lead #{plan.retire_lead.id} from dialog #{c.dialog_number} merged into this contact"
        await self._timeline(s, "contact", plan.target.id, "lead_merged", text, c, now)

    async def _note_conflicts(
        self, s: AsyncSession, plan: MergePlan, contact: ChatContact, now: datetime
    ) -> list[dict[str, Any]]:
        notes = []
        target = f"{plan.target.kind.value} #{plan.target.id}" if plan.target else "a new lead"
        for conflict in plan.conflicts:
            text = (
                f"Its {_LABELS[conflict.field]} {conflict.value} was given in dialog #{contact.dialog_number} "
                f"together with the contacts of {target}; it was not copied there. Check whether they are one person."
            )
            await self._timeline(s, "contact", conflict.other.id, "conflict", text, contact, now)
            notes.append({"type": "contact", "id": conflict.other.id, "field": conflict.field})
        return notes

    async def _timeline(
        self,
        s: AsyncSession,
        entity_type: str,
        entity_id: int,
        kind: str,
        text: str,
        contact: ChatContact,
        now: datetime,
        plan: MergePlan | None = None,
    ) -> None:
        data: dict[str, Any] = {"dialog_number": contact.dialog_number}
        if plan is not None:
            data |= {"filled": plan.fill, "kept": plan.kept}
        s.add(
            CrmTimelineEntry(
                entity_type=entity_type,
                entity_id=entity_id,
                kind=kind,
                text=text,
                data=data,
                dialog_id=contact.dialog_id,
                created_at=now,
            )
        )
