"""The same new person leaving their contacts in two dialogs at the same instant becomes one lead, not two."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from widget_server.crm.builtin import BuiltinCrm
from widget_server.crm.interface import ChatContact
from widget_server.domain.contact_merge import ContactData
from widget_server.storage.crm_tables import CrmLead
from widget_server.storage.tables import OpenLine


async def test_two_dialogs_with_the_same_new_email_at_once_make_one_lead(ctx):
    now = ctx.clock.now()
    async with ctx.db.write() as s:
        s.add(OpenLine(id="shop", name="Shop", allowed_origins=[], secret="x", settings={}, created_at=now))
    crm = BuiltinCrm(ctx.clock)
    both_inside = None if ctx.db.is_sqlite else asyncio.Barrier(2)

    async def leave_contacts(dialog_id: int) -> str:
        async with ctx.db.write() as s:
            # Both transactions are open before either looks for the person (PostgreSQL: truly concurrent).
            if both_inside is not None:
                await s.execute(select(1))
                await asyncio.wait_for(both_inside.wait(), 5)
            contact = ChatContact(
                data=ContactData(name="Ana", email="ana@example.com"),
                dialog_id=dialog_id,
                dialog_number=dialog_id,
                line_id="shop",
                page_url=None,
                linked_lead_id=None,
                linked_contact_id=None,
            )
            recorded = await crm.record_chat_contact(s, contact)
            return f"{recorded.record.type}:{recorded.record.id}"

    first, second = await asyncio.gather(leave_contacts(1), leave_contacts(2))
    assert first == second
    async with ctx.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(CrmLead))).scalar_one() == 1
