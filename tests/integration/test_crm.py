"""Contacts left in the widget land in the built-in CRM: new leads, merges into known clients, the conflict rule,
idempotency, and the REST API that reads it all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tests.integration.test_contact_forms import form_shown, submit
from tests.support.clients import OperatorClient, Visitor, api, login, make_line, new_id
from tests.support.live_server import LiveServer
from widget_server.storage.crm_tables import CrmContact, CrmLead
from widget_server.storage.database import Database


async def add_contact(server: LiveServer, **fields: Any) -> int:
    db = Database(server.database_url)
    now = server.clock.now()
    async with db.write() as s:
        contact = CrmContact(
            **fields, email_key=(fields.get("email") or "").casefold() or None, created_at=now, updated_at=now
        )
        s.add(contact)
        await s.flush()
        contact_id = contact.id
    await db.dispose()
    assert contact_id is not None
    return contact_id


async def count_leads(server: LiveServer, email: str) -> int:
    db = Database(server.database_url)
    async with db.read() as s:
        n = (await s.execute(select(func.count()).select_from(CrmLead).where(CrmLead.email == email))).scalar_one()
    await db.dispose()
    return int(n)


async def intro_form(server: LiveServer, visitor: Visitor, name: str) -> dict[str, Any]:
    await visitor.open_chat()  # (a message while nobody is online would bring the offline form instead)
    server.clock.advance(5)
    form = await form_shown(visitor, "intro")
    await submit(visitor, form["id"], name=name)
    await form_shown(visitor, "intro")  # grown
    return form


async def test_a_known_client_gets_the_missing_fields_and_no_new_lead(server):
    token = login(server)
    line = make_line(server, token)
    client_id = await add_contact(server, name="Olga Client", email="olga@example.com", source="manual")
    operator = await OperatorClient.connect(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    form = await intro_form(server, visitor, "Olya")
    await submit(visitor, form["id"], name="Olya", email="OLGA@example.com", phone="+34 611 222 333")
    card = await operator.expect(
        "message", where=lambda m: m.get("code") == "contact_card" and m["data"]["crm"]["type"] == "contact"
    )
    crm = card["data"]["crm"]
    assert (crm["id"], crm["created"], crm["filled"]) == (client_id, False, ["phone"])
    assert crm["kept"] == {"name": "Olya"}  # the client's own name is not overwritten

    with api(server, token) as http:
        contact = http.get(f"/api/contacts/{client_id}").json()
        assert contact["contact"]["name"] == "Olga Client" and contact["contact"]["email"] == "olga@example.com"
        assert contact["contact"]["phone"] == "+34611222333"
        assert [d["id"] for d in contact["dialogs"]] == [card["dialog_id"]]
        kinds = [e["kind"] for e in contact["timeline"]]
        assert {"filled", "kept", "dialog_linked", "lead_merged"} <= set(kinds)
        filled = next(e for e in contact["timeline"] if e["kind"] == "filled")
        assert "phone +34611222333" in filled["text"] and f"dialog #{contact['dialogs'][0]['number']}" in filled["text"]
        # The name-only lead the first step made was merged into the client.
        lead_id = next(e for e in contact["timeline"] if e["kind"] == "lead_merged")["text"].split("#")[1].split()[0]
        lead = http.get(f"/api/leads/{lead_id}").json()["lead"]
        assert lead["status"] == "converted" and lead["contact_id"] == client_id
    assert await count_leads(server, "OLGA@example.com") == 0
    await visitor.close()
    await operator.close()


async def test_email_of_one_client_and_phone_of_another_go_to_the_email_s_client(server):
    token = login(server)
    line = make_line(server, token)
    a = await add_contact(server, name="Ann A", email="ann.a@example.com", source="manual")
    b = await add_contact(server, name="Bob B", phone="+34600999888", source="manual")
    visitor = await Visitor.connect(server, line=line["id"])
    form = await intro_form(server, visitor, "Ann")
    await submit(visitor, form["id"], name="Ann", email="ann.a@example.com", phone="+34600999888")
    with api(server, token) as http:
        card_a = http.get(f"/api/contacts/{a}").json()
        card_b = http.get(f"/api/contacts/{b}").json()
    assert card_a["contact"]["phone"] is None  # Bob's phone is not copied to Ann
    assert len(card_a["dialogs"]) == 1 and card_b["dialogs"] == []
    conflict = [e for e in card_b["timeline"] if e["kind"] == "conflict"]
    assert len(conflict) == 1 and "+34600999888" in conflict[0]["text"]
    await visitor.close()


async def test_the_same_form_twice_or_from_two_tabs_makes_one_lead(server):
    token = login(server)
    line = make_line(server, token)
    tab1 = await Visitor.connect(server, line=line["id"])
    form = await intro_form(server, tab1, "Twin")
    tab2 = await Visitor.connect(server, line=line["id"], token=tab1.token)
    shown_again = await tab2.expect("form.show")  # the open form, in the second tab too
    assert shown_again["form"]["id"] == form["id"]

    ref = new_id()
    frame = {"type": "form.submit", "ref": ref, "form_id": form["id"], "values": {"email": "twin@example.com"}}
    frame["values"]["name"] = "Twin"
    await tab1.send(frame)
    await tab1.send(frame)  # a retry with the same ref
    first = await tab1.expect("ack", ref=ref)
    second = await tab1.expect("ack", ref=ref)
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    other = new_id()
    await tab2.send({**frame, "ref": other})
    error = await tab2.expect("error", ref=other)
    assert error["code"] == "form_closed"
    assert await count_leads(server, "twin@example.com") == 1

    # The same person in a new dialog later: their open lead is found, not duplicated.
    operator = await OperatorClient.connect(server, token)
    ref = new_id()
    await operator.send({"type": "close", "dialog_id": form["dialog_id"], "ref": ref})
    await operator.expect("ack", ref=ref)
    await operator.close()
    ack = await tab1.say("Back again")
    assert ack["dialog_id"] != form["dialog_id"]
    server.clock.advance(60)
    ref = new_id()
    await tab1.send({"type": "transcript.request", "ref": ref})
    transcript = await form_shown(tab1, "transcript")
    await submit(tab1, transcript["id"], email="TWIN@example.com")
    assert await count_leads(server, "twin@example.com") == 1
    await tab1.close()
    await tab2.close()


async def test_leads_and_contacts_are_read_in_pages_and_only_on_the_operator_s_lines(server):
    token = login(server)
    line = make_line(server, token)
    for n in range(3):
        visitor = await Visitor.connect(server, line=line["id"])
        form = await intro_form(server, visitor, f"Pager {n}")
        await submit(visitor, form["id"], name=f"Pager {n}", email=f"pager{n}@example.com")
        await visitor.close()
    with api(server, token) as http:
        first = http.get("/api/leads", params={"limit": 2}).json()
        assert len(first["items"]) == 2 and first["next"] is not None
        second = http.get("/api/leads", params={"limit": 2, "before": first["next"]}).json()
        ids = [lead["id"] for lead in first["items"] + second["items"]]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
        assert {"pager0@example.com", "pager1@example.com", "pager2@example.com"} <= {
            lead["email"] for lead in first["items"] + second["items"]
        } | {lead["email"] for lead in http.get("/api/leads", params={"limit": 200}).json()["items"]}
        assert http.get("/api/leads", params={"limit": 0}).status_code == 400
        assert http.get("/api/contacts", params={"limit": 5}).status_code == 200
        lead_id = first["items"][0]["id"]
        http.post(
            "/api/operators",
            json={"email": "elsewhere@example.com", "name": "Else", "password": "password-123", "line_ids": []},
        )
    other = login(server, "elsewhere@example.com", "password-123")
    with api(server, other) as http:
        assert http.get(f"/api/leads/{lead_id}").status_code == 403
        assert lead_id not in [lead["id"] for lead in http.get("/api/leads").json()["items"]]
