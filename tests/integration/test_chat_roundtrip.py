"""A visitor and an operator talk in real time through real WebSockets."""

from __future__ import annotations

from tests.support.clients import OperatorClient, Visitor, login, make_line


async def test_opening_the_chat_shows_the_greeting_and_a_dialog_number(server):
    token = login(server)
    line = make_line(server, token, greeting="Welcome to <Shop>!")
    visitor = await Visitor.connect(server, line=line["id"])
    assert visitor.welcome["dialog"] is None

    await visitor.open_chat()
    dialog = (await visitor.expect("dialog"))["dialog"]
    greeting = await visitor.expect("message")
    assert dialog["number"] >= 1
    assert greeting["seq"] == 1
    assert greeting["author"] == {"type": "bot", "name": "Test line"}
    assert greeting["text"] == "Welcome to <Shop>!"

    # Opening again (another page, the same visitor) does not start a second dialog or greet twice.
    again = await visitor.open_chat()
    assert again["dialog_id"] == dialog["id"] and again["duplicate"] is True
    await visitor.close()


async def test_round_trip_visitor_operator_visitor_and_a_second_tab_sees_both_sides(server):
    token = login(server)
    line = make_line(server, token)
    operator = await OperatorClient.connect(server, token)
    tab1 = await Visitor.connect(server, line=line["id"])
    tab2 = await Visitor.connect(server, line=line["id"], token=tab1.token)

    ack = await tab1.say("Do you ship to Spain?")
    dialog_id = ack["dialog_id"]

    # The operator's list learns of the new dialog, with its number, and gets the message.
    summary = (await operator.expect("dialog"))["dialog"]
    assert summary["id"] == dialog_id and summary["status"] == "new"
    assert summary["line"]["id"] == line["id"]
    incoming = await operator.expect("message", seq=ack["seq"])
    assert incoming["text"] == "Do you ship to Spain?"

    joined = await operator.join(dialog_id)
    assert [m["text"] for m in joined["messages"]][:2] == ["Hi there!", "Do you ship to Spain?"]
    # History names authors exactly as the live frames did.
    assert joined["messages"][0]["author"] == {"type": "bot", "name": "Test line"}
    assert joined["messages"][1]["author"] == incoming["author"] == {"type": "visitor", "name": None}
    answer = await operator.say(dialog_id, "Yes, we do.")

    for tab in (tab1, tab2):
        got = await tab.expect("message", seq=answer["seq"])
        assert got["author"] == {"type": "operator", "name": "Demo operator"}
        assert got["text"] == "Yes, we do."
    # The second tab saw the visitor's own message too, and the operator joining.
    texts = [f.get("text") for f in tab2.seen if f["type"] == "message"]
    assert "Do you ship to Spain?" in texts and "Demo operator joined the chat" in texts

    for client in (tab1, tab2, operator):
        await client.close()


async def test_typing_and_seen_reach_the_other_side(server):
    token = login(server)
    line = make_line(server, token)
    operator = await OperatorClient.connect(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    ack = await visitor.say("Hello?")
    await operator.join(ack["dialog_id"])

    await visitor.send({"type": "typing", "active": True})
    typing = await operator.expect("typing", dialog_id=ack["dialog_id"])
    assert typing["from"] == "visitor" and typing["active"] is True

    await operator.send({"type": "typing", "dialog_id": ack["dialog_id"], "active": True})
    typing = await visitor.expect("typing")
    assert typing == {
        "type": "typing",
        "dialog_id": ack["dialog_id"],
        "from": "operator",
        "name": "Demo operator",
        "active": True,
    }

    answer = await operator.say(ack["dialog_id"], "Here!")
    await visitor.send({"type": "seen", "seq": answer["seq"]})
    seen = await operator.expect("seen", dialog_id=ack["dialog_id"], by="visitor")
    assert seen["seq"] == answer["seq"]

    await operator.send({"type": "seen", "dialog_id": ack["dialog_id"], "seq": ack["seq"]})
    seen = await visitor.expect("seen", by="operator")
    assert seen["seq"] == ack["seq"]
    await visitor.close()
    await operator.close()


async def test_operator_closes_the_dialog_and_the_next_message_starts_a_new_one(server):
    token = login(server)
    line = make_line(server, token)
    operator = await OperatorClient.connect(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    first = await visitor.say("Thanks, bye")
    await operator.join(first["dialog_id"])

    await operator.send({"type": "close", "dialog_id": first["dialog_id"], "ref": "close-1"})
    await operator.expect("ack", ref="close-1")
    closed = await visitor.expect("dialog", where=lambda f: f["dialog"]["status"] == "finished")
    assert closed["dialog"]["id"] == first["dialog_id"]
    notice = await visitor.expect("message", code="dialog_closed")
    assert notice["kind"] == "system" and notice["text"] == "Demo operator closed the dialog"

    # An operator cannot write into a finished dialog...
    await operator.send({"type": "send", "dialog_id": first["dialog_id"], "client_msg_id": "late-msg-1", "text": "x"})
    error = await operator.expect("error", ref="late-msg-1")
    assert error["code"] == "dialog_closed"

    # ...but the visitor can come back: a new dialog with a new number.
    second = await visitor.say("One more question")
    assert second["dialog_id"] != first["dialog_id"]
    new_dialog = (await visitor.expect("dialog", where=lambda f: f["dialog"]["id"] == second["dialog_id"]))["dialog"]
    assert new_dialog["number"] > closed["dialog"]["number"]
    await visitor.close()
    await operator.close()


async def test_operator_list_shows_open_dialogs_of_their_lines_with_unread_counts(server):
    token = login(server)
    line = make_line(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    ack = await visitor.say("First")
    await visitor.say("Second")
    operator = await OperatorClient.connect(server, token)
    mine = [d for d in operator.ready["dialogs"] if d["id"] == ack["dialog_id"]]
    assert len(mine) == 1
    assert mine[0]["unread"] == 2
    assert mine[0]["last_message"]["text"] == "Second"
    assert mine[0]["visitor"]["name"].startswith("Visitor #")
    await visitor.close()
    await operator.close()
