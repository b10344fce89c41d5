"""What operators do from the inbox: status and In progress, leave, hand over, add, links, canned replies, tasks,
delete; and that every one of them is checked on the server (line membership, role)."""

from __future__ import annotations

import re

import httpx

from tests.support.clients import OperatorClient, Visitor, api, login, make_line, make_operator, new_id


async def test_in_progress_takes_the_dialog_and_the_status_menu_follows_the_rules(server):
    admin = login(server)
    line = make_line(server, admin)
    _, token = make_operator(server, admin, [line["id"]], name="Olga")
    olga = await OperatorClient.connect(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    dialog_id = (await visitor.say("Anyone?"))["dialog_id"]

    # Opening the dialog to read it assigns nothing.
    joined = await olga.join(dialog_id)
    assert joined["dialog"]["status"] == "new" and joined["dialog"]["operator"] is None

    assert (await olga.status(dialog_id, "in_progress"))["type"] == "ack"
    summary = (await olga.expect("dialog", where=lambda f: f["dialog"]["status"] == "in_progress"))["dialog"]
    assert summary["operator"]["name"] == "Olga"
    assert (await visitor.expect("message", code="operator_joined"))["text"] == "Olga joined the chat"

    assert (await olga.status(dialog_id, "waiting"))["type"] == "ack"
    refused = await olga.status(dialog_id, "new")
    assert refused["type"] == "error" and refused["code"] == "illegal_status"
    assert (await olga.status(dialog_id, "finished"))["type"] == "ack"
    # Reopening the visitor's latest dialog brings it back, and the visitor can see it.
    assert (await olga.status(dialog_id, "in_progress"))["type"] == "ack"
    assert (await visitor.expect("message", code="dialog_reopened"))["kind"] == "system"
    reopened = await visitor.expect("dialog", where=lambda f: f["dialog"]["status"] == "in_progress")
    assert reopened["dialog"]["id"] == dialog_id
    # Once the visitor has a newer dialog, the old one stays finished.
    assert (await olga.status(dialog_id, "finished"))["type"] == "ack"
    newer = await visitor.say("A new question")
    assert newer["dialog_id"] != dialog_id
    refused = await olga.status(dialog_id, "in_progress")
    assert refused["type"] == "error" and refused["code"] == "newer_dialog"
    await olga.close()
    await visitor.close()


async def test_leaving_hands_the_dialog_back_and_operators_can_be_added_and_transferred(server):
    admin = login(server)
    line = make_line(server, admin)
    other = make_line(server, admin)
    anna, anna_token = make_operator(server, admin, [line["id"]], name="Anna")
    boris, boris_token = make_operator(server, admin, [line["id"]], name="Boris")
    stranger, _ = make_operator(server, admin, [other["id"]], name="Stranger")
    a = await OperatorClient.connect(server, anna_token)
    b = await OperatorClient.connect(server, boris_token)
    visitor = await Visitor.connect(server, line=line["id"])
    dialog_id = (await visitor.say("Help"))["dialog_id"]
    await a.say(dialog_id, "Here")

    assert (await a.assign(dialog_id, boris["id"], "add"))["type"] == "ack"
    assert await visitor.expect("message", code="operator_joined", where=lambda f: "Boris" in f["text"])
    # Someone outside the dialog's line cannot be added.
    refused = await a.assign(dialog_id, stranger["id"], "add")
    assert refused["type"] == "error" and refused["code"] == "unknown_operator"

    # The responsible one leaves: the added operator takes over.
    assert (await a.leave(dialog_id))["type"] == "ack"
    assert (await visitor.expect("message", code="operator_left"))["text"] == "Anna left the chat"
    summary = await b.expect("dialog", where=lambda f: (f["dialog"]["operator"] or {}).get("id") == boris["id"])
    assert summary["dialog"]["operators"] == [] and summary["dialog"]["status"] == "in_progress"
    refused = await a.leave(dialog_id)
    assert refused["type"] == "error" and refused["code"] == "not_on_dialog"

    # Transfer to Anna, then Anna leaves too: nobody is left, the dialog is back in the queue.
    assert (await b.assign(dialog_id, anna["id"], "transfer"))["type"] == "ack"
    summary = await a.expect("dialog", where=lambda f: (f["dialog"]["operator"] or {}).get("id") == anna["id"])
    assert summary["dialog"]["operators"] == []
    assert (await a.leave(dialog_id))["type"] == "ack"
    back = await b.expect("dialog", where=lambda f: f["dialog"]["operator"] is None)
    assert back["dialog"]["status"] == "new"
    for client in (a, b, visitor):
        await client.close()


async def test_assign_acks_with_the_notice_seq_and_refuses_to_remove_the_responsible_operator(server):
    admin = login(server)
    line = make_line(server, admin)
    anna, anna_token = make_operator(server, admin, [line["id"]], name="Anna")
    boris, _ = make_operator(server, admin, [line["id"]], name="Boris")
    a = await OperatorClient.connect(server, anna_token)
    visitor = await Visitor.connect(server, line=line["id"])
    dialog_id = (await visitor.say("Is anyone there?"))["dialog_id"]

    # Adding someone to an unassigned chat makes them responsible; the ack names the notice that says so.
    added = await a.assign(dialog_id, boris["id"], "add")
    assert added["type"] == "ack" and added["duplicate"] is False
    joined = await visitor.expect("message", code="operator_joined")
    assert joined["text"] == "Boris joined the chat" and added["seq"] == joined["seq"] > 0

    # Boris is responsible: removing him is refused (hand the chat over instead), and he stays on it.
    refused = await a.assign(dialog_id, boris["id"], "remove")
    assert refused["type"] == "error" and refused["code"] == "is_responsible"
    assert "transfer" in refused["message"]
    assert (await a.join(dialog_id))["dialog"]["operator"]["id"] == boris["id"]
    assert (await a.assign(dialog_id, anna["id"], "transfer"))["type"] == "ack"
    assert (await a.assign(dialog_id, boris["id"], "remove"))["duplicate"] is True  # no longer on it at all
    await a.close()
    await visitor.close()


async def test_links_canned_replies_and_agenda_items_from_a_dialog(server):
    admin = login(server)
    line = make_line(server, admin)
    _, token = make_operator(server, admin, [line["id"]])
    visitor = await Visitor.connect(server, line=line["id"])
    dialog_id = (await visitor.say("Where is order 5?"))["dialog_id"]

    with api(server, token) as client:
        order = client.post("/api/orders", json={"title": "Blue kettle", "amount_minor": 2599, "currency": "eur"})
        assert order.status_code == 201, order.text
        order_id = order.json()["id"]
        linked = client.post(f"/api/dialogs/{dialog_id}/links", json={"entity_type": "order", "entity_id": order_id})
        assert linked.status_code == 201
        again = client.post(f"/api/dialogs/{dialog_id}/links", json={"entity_type": "order", "entity_id": order_id})
        assert again.status_code == 200 and again.json()["duplicate"] is True
        missing = client.post(f"/api/dialogs/{dialog_id}/links", json={"entity_type": "order", "entity_id": 99999})
        assert missing.status_code == 404
        details = client.get(f"/api/dialogs/{dialog_id}").json()
        assert [(x["entity_type"], x["title"]) for x in details["links"]] == [
            ("order", f"Order #{order_id}: Blue kettle")
        ]
        assert client.get(f"/api/orders/{order_id}").json()["dialog_ids"] == [dialog_id]
        assert details["channel"]["profile"]["page_title"] == "Demo shop"
        assert details["can"] == {"delete": False}

        task = client.post("/api/tasks", json={"title": "Call the courier", "dialog_id": dialog_id})
        assert task.status_code == 201 and task.json()["dialog"]["id"] == dialog_id
        assert [t["title"] for t in client.get("/api/tasks").json()["items"]] == ["Call the courier"]
        done = client.patch(f"/api/tasks/{task.json()['id']}", json={"done": True})
        assert done.json()["done"] is True
        assert client.get("/api/tasks").json()["items"] == []
        event = client.post(
            "/api/events",
            json={"title": "Delivery window", "starts_at": "2026-01-02T09:00:00Z", "dialog_id": dialog_id},
        )
        assert event.status_code == 201
        assert [e["title"] for e in client.get(f"/api/dialogs/{dialog_id}").json()["events"]] == ["Delivery window"]

        # Canned replies: admins write them, operators of the line read them.
        refused = client.post(f"/api/lines/{line['id']}/canned", json={"shortcut": "hi", "text": "Hello!"})
        assert refused.status_code == 403
    with api(server, admin) as client:
        created = client.post(
            f"/api/lines/{line['id']}/canned",
            json={"shortcut": "/Ship", "title": "Shipping", "text": "We ship in 2 days."},
        )
        assert created.status_code == 201 and created.json()["shortcut"] == "ship"
        clash = client.post(f"/api/lines/{line['id']}/canned", json={"shortcut": "ship", "text": "again"})
        assert clash.status_code == 409
    with api(server, token) as client:
        replies = client.get(f"/api/lines/{line['id']}/canned").json()["items"]
        assert [(r["shortcut"], r["text"]) for r in replies] == [("ship", "We ship in 2 days.")]
    await visitor.close()


async def test_order_search_finds_percent_and_underscore_as_typed(server):
    admin = login(server)
    tag = f"wool{new_id()[:8]}"
    with api(server, admin) as client:
        for title in (f"{tag} 100% merino", f"{tag} 1000 merino", f"{tag} size_m", f"{tag} sizexm"):
            assert client.post("/api/orders", json={"title": title}).status_code == 201

        def titles(q: str) -> list[str]:
            return sorted(o["title"] for o in client.get("/api/orders", params={"q": q}).json()["items"])

        assert titles(f"{tag} 100%") == [f"{tag} 100% merino"]
        assert titles(f"{tag} size_m") == [f"{tag} size_m"]
        assert titles(tag) == sorted([f"{tag} 100% merino", f"{tag} 1000 merino", f"{tag} size_m", f"{tag} sizexm"])


async def test_an_operator_of_line_x_cannot_read_act_on_or_search_line_y(server):
    admin = login(server)
    line_x = make_line(server, admin, name="X")
    line_y = make_line(server, admin, name="Y")
    xena_row, xena = make_operator(server, admin, [line_x["id"]])
    visitor = await Visitor.connect(server, line=line_y["id"])
    dialog_id = (await visitor.say("Y's secret plan with zeppelins"))["dialog_id"]
    with api(server, admin) as client:
        order_id = client.post("/api/orders", json={"title": "Zeppelin"}).json()["id"]
        client.post(f"/api/lines/{line_y['id']}/canned", json={"shortcut": "y", "text": "Y only"})

    operator = await OperatorClient.connect(server, xena)
    for reply in (
        await operator.note(dialog_id, "sneaky"),
        await operator.status(dialog_id, "in_progress"),
        await operator.leave(dialog_id),
        await operator.assign(dialog_id, xena_row["id"], "add"),
    ):
        assert reply["type"] == "error" and reply["code"] == "forbidden", reply
    with api(server, xena) as client:
        for method, path, body in (
            ("GET", f"/api/dialogs/{dialog_id}", None),
            ("GET", f"/api/dialogs/{dialog_id}/messages", None),
            ("GET", f"/api/dialogs/{dialog_id}/search?q=zeppelins", None),
            ("POST", f"/api/dialogs/{dialog_id}/links", {"entity_type": "order", "entity_id": order_id}),
            ("POST", "/api/tasks", {"title": "t", "dialog_id": dialog_id}),
            ("POST", "/api/reminders", {"text": "r", "remind_at": "2026-06-01T00:00:00Z", "dialog_id": dialog_id}),
            ("DELETE", f"/api/dialogs/{dialog_id}", None),
            ("GET", f"/api/lines/{line_y['id']}/canned", None),
        ):
            response = client.request(method, path, json=body)
            assert response.status_code == 403, (method, path, response.text)
        assert client.get("/api/dialogs", params={"q": "zeppelins", "status": "all"}).json()["items"] == []
        upload = client.post(
            f"/api/dialogs/{dialog_id}/files",
            params={"name": "a.txt", "client_msg_id": "upload-into-y"},
            content=b"hello",
            headers={"content-type": "text/plain"},
        )
        assert upload.status_code == 403
    # Nothing Xena tried reached the visitor.
    assert all(f.get("author", {}).get("type") != "operator" for f in await visitor.remaining())
    await operator.close()
    await visitor.close()


async def test_only_an_admin_deletes_a_dialog_after_which_it_is_gone_everywhere_and_audited(server):
    admin = login(server)
    line = make_line(server, admin)
    _, token = make_operator(server, admin, [line["id"]])
    visitor = await Visitor.connect(server, line=line["id"])
    dialog_id = (await visitor.say("Please forget me, my word is quokka"))["dialog_id"]
    watcher = await OperatorClient.connect(server, admin)

    assert (
        httpx.delete(f"{server.url}/api/dialogs/{dialog_id}", headers={"Authorization": f"Bearer {token}"}).status_code
        == 403
    )
    with api(server, admin) as client:
        client.post(
            f"/api/dialogs/{dialog_id}/files",
            params={"name": "id.txt", "client_msg_id": "doc-for-delete"},
            content=b"passport 123",
            headers={"content-type": "text/plain"},
        ).raise_for_status()
        url = (await watcher.expect("message", kind="file"))["file"]["url"]
        assert httpx.get(url).status_code == 200
        deleted = client.delete(f"/api/dialogs/{dialog_id}")
        assert deleted.status_code == 200, deleted.text
        # The same UTC timestamp format as every other answer (…Z), so clients parse one format.
        created_at = deleted.json()["dialog"]["created_at"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", created_at), created_at
        assert (await watcher.expect("dialog_deleted"))["dialog_id"] == dialog_id
        assert (await visitor.expect("dialog_deleted"))["dialog_id"] == dialog_id
        assert client.get(f"/api/dialogs/{dialog_id}").status_code == 403
        assert client.get("/api/dialogs", params={"q": "quokka", "status": "all"}).json()["items"] == []
        assert httpx.get(url).status_code == 404  # the signed link outlives the file, not the other way round
        entry = client.get("/api/audit").json()["items"][0]
        assert entry["action"] == "dialog.delete" and entry["entity"] == {"type": "dialog", "id": str(dialog_id)}
        assert entry["actor"]["email"] == "operator@demo.openline" and entry["details"]["files"] == 1
    with api(server, token) as client:
        assert client.get("/api/audit").status_code == 403
    # The visitor's next message starts a new dialog.
    assert (await visitor.say("hello again"))["dialog_id"] != dialog_id
    await watcher.close()
    await visitor.close()


async def test_search_in_a_chat_finds_its_entries_notes_included_and_nothing_of_other_chats(server):
    admin = login(server)
    line = make_line(server, admin)
    operator = await OperatorClient.connect(server, admin)
    visitor = await Visitor.connect(server, line=line["id"])
    dialog_id = (await visitor.say("My parcel tracking number is missing"))["dialog_id"]
    answer = await operator.say(dialog_id, "I will send the tracking link")
    note = await operator.note(dialog_id, "Tracking system was down today")
    await visitor.say("Thanks!")
    other = await Visitor.connect(server, line=line["id"])
    await other.say("tracking tracking tracking")
    with api(server, admin) as client:
        found = client.get(f"/api/dialogs/{dialog_id}/search", params={"q": "TRACK"}).json()["seqs"]
        assert found == [2, answer["seq"], note["seq"]]
        assert client.get(f"/api/dialogs/{dialog_id}/search", params={"q": "tracking link"}).json()["seqs"] == [
            answer["seq"]
        ]
        assert client.get(f"/api/dialogs/{dialog_id}/search", params={"q": "x"}).status_code == 400
    for client in (operator, visitor, other):
        await client.close()
