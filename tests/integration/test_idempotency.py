"""A resent message is acknowledged again and stored once, even from two connections at the same moment."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.clients import OperatorClient, Visitor, api, login, make_line


async def test_the_same_client_msg_id_twice_stores_one_message(server):
    token = login(server)
    line = make_line(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    first = await visitor.say("Only once", client_msg_id="resend-0001")
    second = await visitor.say("Only once", client_msg_id="resend-0001")
    assert first["duplicate"] is False and second["duplicate"] is True
    assert second["seq"] == first["seq"]

    with api(server, token) as client:
        items = client.get(f"/api/dialogs/{first['dialog_id']}/messages").json()["items"]
    assert [m["text"] for m in items].count("Only once") == 1
    await visitor.close()


async def test_the_same_client_msg_id_from_two_tabs_at_once_stores_one_message(server):
    token = login(server)
    line = make_line(server, token)
    tab1 = await Visitor.connect(server, line=line["id"])
    opening = await tab1.say("start")
    tab2 = await Visitor.connect(server, line=line["id"], token=tab1.token)

    for round_ in range(10):
        cid = f"race-{round_:04d}"
        acks = await asyncio.gather(tab1.say("racing", cid), tab2.say("racing", cid))
        assert {a["seq"] for a in acks} == {acks[0]["seq"]}
        assert sorted(a["duplicate"] for a in acks) == [False, True]

    with api(server, token) as client:
        items = client.get(f"/api/dialogs/{opening['dialog_id']}/messages").json()["items"]
    assert [m["text"] for m in items].count("racing") == 10
    await tab1.close()
    await tab2.close()


async def test_an_operator_resend_is_stored_once(server):
    token = login(server)
    line = make_line(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    ack = await visitor.say("Hi")
    operator1 = await OperatorClient.connect(server, token)
    operator2 = await OperatorClient.connect(server, token)
    acks = await asyncio.gather(
        operator1.say(ack["dialog_id"], "Hello!", "op-resend-1"),
        operator2.say(ack["dialog_id"], "Hello!", "op-resend-1"),
    )
    assert acks[0]["seq"] == acks[1]["seq"]
    response = httpx.get(
        f"{server.url}/api/dialogs/{ack['dialog_id']}/messages", headers={"Authorization": f"Bearer {token}"}
    )
    assert [m["text"] for m in response.json()["items"]].count("Hello!") == 1
    for client in (visitor, operator1, operator2):
        await client.close()
