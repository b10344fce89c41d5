"""Visitors reach only their own dialogs; operators only the dialogs of their lines."""

from __future__ import annotations

import httpx

from tests.support.clients import OperatorClient, Visitor, api, login, make_line


async def test_visitor_cannot_resume_or_read_another_visitors_dialog(server):
    token = login(server)
    line = make_line(server, token)
    alice = await Visitor.connect(server, line=line["id"])
    secret = await alice.say("My card number is 4111")

    mallory = await Visitor.connect(server, line=line["id"])
    await mallory.close()
    probe = await Visitor.connect(
        server, line=line["id"], token=mallory.token, resume={"dialog_id": secret["dialog_id"], "last_seq": 0}
    )
    assert probe.welcome["resumed"] is False
    assert probe.welcome["dialog"] is None
    assert probe.welcome["messages"] == []
    error = await probe.expect("error")
    assert error["code"] == "forbidden"

    # Writing goes to Mallory's own new dialog, never into Alice's.
    ack = await probe.say("let me in")
    assert ack["dialog_id"] != secret["dialog_id"]
    frames = await alice.remaining()
    assert all(f.get("text") != "let me in" for f in frames)
    await alice.close()
    await probe.close()


async def test_an_unknown_visitor_token_gets_a_new_identity_not_someone_elses(server):
    token = login(server)
    line = make_line(server, token)
    alice = await Visitor.connect(server, line=line["id"])
    await alice.say("hello")
    stranger = await Visitor.connect(server, line=line["id"], token="made-up-token")
    assert (await stranger.expect("error"))["code"] == "invalid_token"
    assert stranger.welcome["visitor"]["id"] != alice.welcome["visitor"]["id"]
    assert stranger.welcome["visitor"]["token"] != "made-up-token"
    assert stranger.welcome["dialog"] is None
    await alice.close()
    await stranger.close()


async def test_a_visitor_token_is_bound_to_nothing_but_its_own_dialogs_on_each_line(server):
    token = login(server)
    line_a = make_line(server, token, name="A")
    line_b = make_line(server, token, name="B")
    visitor = await Visitor.connect(server, line=line_a["id"])
    ack = await visitor.say("on line A")
    # The same visitor on another line cannot resume line A's dialog there.
    other = await Visitor.connect(
        server, line=line_b["id"], token=visitor.token, resume={"dialog_id": ack["dialog_id"], "last_seq": 0}
    )
    assert other.welcome["dialog"] is None
    assert (await other.expect("error"))["code"] == "forbidden"
    await visitor.close()
    await other.close()


async def test_operator_of_one_line_cannot_see_or_touch_another_lines_dialogs(server):
    admin = login(server)
    line_x = make_line(server, admin, name="X")
    line_y = make_line(server, admin, name="Y")
    with api(server, admin) as client:
        created = client.post(
            "/api/operators",
            json={
                "email": "x-only@example.com",
                "name": "Xena",
                "password": "long-enough-pw",
                "line_ids": [line_x["id"]],
            },
        )
        assert created.status_code == 201, created.text
    xena = login(server, "x-only@example.com", "long-enough-pw")

    visitor_y = await Visitor.connect(server, line=line_y["id"])
    ack = await visitor_y.say("Y's private question")
    operator = await OperatorClient.connect(server, xena)
    assert ack["dialog_id"] not in [d["id"] for d in operator.ready["dialogs"]]

    for frame in (
        {"type": "join", "dialog_id": ack["dialog_id"]},
        {"type": "send", "dialog_id": ack["dialog_id"], "client_msg_id": "intrude-1", "text": "hi"},
        {"type": "close", "dialog_id": ack["dialog_id"], "ref": "intrude-2"},
        {"type": "typing", "dialog_id": ack["dialog_id"]},
        {"type": "seen", "dialog_id": ack["dialog_id"], "seq": 1},
        {"type": "join", "dialog_id": 999_999},  # one that does not exist answers the same
    ):
        await operator.send(frame)
        assert (await operator.expect("error"))["code"] == "forbidden"
    # Nothing of line Y reached Xena, and the visitor heard nothing from her.
    await visitor_y.say("still private")
    assert all(f.get("dialog_id") != ack["dialog_id"] for f in await operator.remaining())
    heard = await visitor_y.remaining()
    assert all(f["type"] != "typing" and f.get("author", {}).get("type") != "operator" for f in heard)

    response = httpx.get(
        f"{server.url}/api/dialogs/{ack['dialog_id']}/messages", headers={"Authorization": f"Bearer {xena}"}
    )
    assert response.status_code == 403
    listed = httpx.get(f"{server.url}/api/dialogs", headers={"Authorization": f"Bearer {xena}"}).json()["items"]
    assert ack["dialog_id"] not in [d["id"] for d in listed]
    # And she cannot make herself an admin's tools.
    forbidden = httpx.post(
        f"{server.url}/api/lines", json={"name": "mine"}, headers={"Authorization": f"Bearer {xena}"}
    )
    assert forbidden.status_code == 403
    await visitor_y.close()
    await operator.close()
