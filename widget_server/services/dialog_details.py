"""The details panel of one dialog: the client, their profile on the channel, links, and the agenda items."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from widget_server.domain.channels import CHANNELS
from widget_server.domain.dialog_state import DialogStatus, manual_targets
from widget_server.domain.permissions import Action, allowed
from widget_server.domain.timestamps import iso
from widget_server.domain.user_agent import describe_user_agent
from widget_server.services import agenda, links
from widget_server.services.context import Context
from widget_server.services.dialog_messages import summaries
from widget_server.services.dialogs import check_operator_access
from widget_server.services.operators import OperatorIdentity
from widget_server.services.payloads import visitor_display_name
from widget_server.storage.crm_tables import CrmCompany, CrmContact, CrmLead
from widget_server.storage.tables import CalendarEvent, Reminder, Task, Visitor, table_of

_calendar_events = table_of(CalendarEvent)
_reminders = table_of(Reminder)
_tasks = table_of(Task)


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


async def details(ctx: Context, who: OperatorIdentity, dialog_id: int) -> dict[str, Any]:
    dialog = await check_operator_access(ctx, who, dialog_id)
    summary = (await summaries(ctx, dialog_ids=[dialog_id], open_only=False))[0]
    async with ctx.db.read() as s:
        visitor = await s.get(Visitor, dialog.visitor_id)
        contact = await s.get(CrmContact, dialog.contact_id) if dialog.contact_id else None
        lead = await s.get(CrmLead, dialog.lead_id) if dialog.lead_id else None
        company = await s.get(CrmCompany, contact.company_id) if contact and contact.company_id else None
        linked = await links.links_of(s, dialog_id)
        tasks = (await s.execute(select(Task).where(_tasks.c.dialog_id == dialog_id).order_by(_tasks.c.id))).scalars()
        events = (
            await s.execute(
                select(CalendarEvent)
                .where(_calendar_events.c.dialog_id == dialog_id)
                .order_by(_calendar_events.c.starts_at)
            )
        ).scalars()
        reminders = (
            await s.execute(
                select(Reminder)
                .where(_reminders.c.dialog_id == dialog_id, _reminders.c.operator_id == who.id)
                .order_by(_reminders.c.remind_at)
            )
        ).scalars()
        task_list = [agenda.task_public(t, dialog.number) for t in tasks]
        event_list = [agenda.event_public(e, dialog.number) for e in events]
        reminder_list = [agenda.reminder_public(r, dialog.number) for r in reminders]
    assert visitor is not None
    return {
        "dialog": summary,
        "client": {
            "visitor_id": visitor.id,
            "name": (contact and contact.name) or visitor_display_name(dialog.visitor_id, visitor.name),
            # The client's record first (it may have been corrected in the CRM), then the lead, then what the
            # visitor typed into this chat's forms.
            "email": _first(contact.email if contact else None, lead.email if lead else None, visitor.email),
            "phone": _first(contact.phone if contact else None, lead.phone if lead else None, visitor.phone),
            "company": company.title if company else None,
            "contact": {"id": contact.id, "name": contact.name} if contact else None,
            "lead": {"id": lead.id, "title": lead.title, "status": lead.status} if lead else None,
        },
        "channel": {
            "id": dialog.channel,
            "label": CHANNELS.get(dialog.channel, dialog.channel),
            "profile": {
                "page_url": dialog.page_url,
                "page_title": dialog.page_title,
                "browser": describe_user_agent(visitor.user_agent),
                "user_agent": visitor.user_agent,
                "language": visitor.language,
                "location": visitor.location,
                "first_seen_at": iso(visitor.created_at),
                "last_seen_at": iso(visitor.last_seen_at),
            },
        },
        "links": linked,
        "link_types": links.kinds(),
        "tasks": task_list,
        "events": event_list,
        "reminders": reminder_list,
        "status_targets": [t.value for t in manual_targets(DialogStatus(dialog.status))],
        "can": {"delete": allowed(who.role, Action.DELETE_DIALOG)},
    }
