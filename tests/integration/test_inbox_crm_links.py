"""The details panel and the CRM tell one story: a chat's lead or client (from a form, or linked by hand) is shown
with its e-mail and phone, can be found by the link picker, and lists the chat on its card."""

from __future__ import annotations

from tests.integration.test_contact_forms import form_shown, submit
from tests.integration.test_crm import add_contact, intro_form
from tests.support.clients import OperatorClient, Visitor, api, login, make_line


async def test_a_lead_from_the_form_is_the_chats_client_in_the_details_panel(server):
    token = login(server)
    line = make_line(server, token)
    operator = await OperatorClient.connect(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    form = await intro_form(server, visitor, "Ana")
    await submit(visitor, form["id"], name="Ana", email="ana@example.com", phone="+34 611 222 333")
    card = await operator.expect("message", where=lambda m: m.get("code") == "contact_card")
    dialog_id, lead_id = card["dialog_id"], card["data"]["crm"]["id"]
    with api(server, token) as client:
        details = client.get(f"/api/dialogs/{dialog_id}").json()
    assert details["client"]["email"] == "ana@example.com"
    assert details["client"]["phone"] == "+34611222333"
    assert details["client"]["lead"]["id"] == lead_id
    assert details["client"]["contact"] is None
    assert {t["type"] for t in details["link_types"]} == {"lead", "contact", "order"}
    await visitor.close()
    await operator.close()


async def test_linking_a_known_client_by_hand_makes_it_the_chats_client_until_unlinked(server):
    token = login(server)
    line = make_line(server, token)
    olga = await add_contact(
        server, name="Olga Client", email="olga@example.com", phone="+34600111222", source="manual"
    )
    await add_contact(server, name="Someone 100% else_", email="x@example.com", source="manual")
    visitor = await Visitor.connect(server, line=line["id"])
    said = await visitor.say("It's Olga, about my order")
    dialog_id = said["dialog_id"]
    with api(server, token) as client:
        # The link picker finds clients by name, e-mail or number; `%` and `_` are plain characters.
        assert [c["id"] for c in client.get("/api/contacts", params={"q": "olga"}).json()["items"]] == [olga]
        assert [c["id"] for c in client.get("/api/contacts", params={"q": f"#{olga}"}).json()["items"]] == [olga]
        assert [c["name"] for c in client.get("/api/contacts", params={"q": "100%"}).json()["items"]] == [
            "Someone 100% else_"
        ]
        assert client.get("/api/contacts", params={"q": "1_0"}).json()["items"] == []

        linked = client.post(f"/api/dialogs/{dialog_id}/links", json={"entity_type": "contact", "entity_id": olga})
        assert linked.status_code == 201, linked.text
        details = client.get(f"/api/dialogs/{dialog_id}").json()
        assert details["client"]["name"] == "Olga Client"
        assert details["client"]["email"] == "olga@example.com"
        assert details["client"]["contact"] == {"id": olga, "name": "Olga Client"}
        assert [x["title"] for x in details["links"]] == [f"Contact #{olga}: Olga Client"]
        # The client's card in the CRM lists the chat.
        card = client.get(f"/api/contacts/{olga}").json()
        assert [d["id"] for d in card["dialogs"]] == [dialog_id]

        missing = client.post(f"/api/dialogs/{dialog_id}/links", json={"entity_type": "lead", "entity_id": 99999})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_lead"

        link_id = details["links"][0]["id"]
        assert client.delete(f"/api/dialogs/{dialog_id}/links/{link_id}").status_code in (200, 204)
        details = client.get(f"/api/dialogs/{dialog_id}").json()
        assert details["client"]["contact"] is None and details["client"]["email"] is None
        assert client.get(f"/api/contacts/{olga}").json()["dialogs"] == []
    await visitor.close()


async def test_the_offline_form_contacts_show_in_the_panel_before_any_crm_record_exists(server):
    token = login(server)
    line = make_line(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    said = await visitor.say("anyone?")  # nobody online: the offline form at once
    form = await form_shown(visitor, "offline")
    await submit(visitor, form["id"], name="Pia", email="pia@example.com")
    with api(server, token) as client:
        details = client.get(f"/api/dialogs/{said['dialog_id']}").json()
    assert details["client"]["email"] == "pia@example.com"
    await visitor.close()
