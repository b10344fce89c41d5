"""A visitor who loses the connection gets every missed message after reconnecting: in order, exactly once."""

from __future__ import annotations

import asyncio

from tests.support.clients import OperatorClient, Visitor, login, make_line


async def test_reconnect_with_last_seq_gets_the_missed_messages_once_in_order(server):
    token = login(server)
    line = make_line(server, token)
    operator = await OperatorClient.connect(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    ack = await visitor.say("Hello")
    dialog_id = ack["dialog_id"]
    await operator.join(dialog_id)
    first = await operator.say(dialog_id, "Answer 1")
    await visitor.expect("message", seq=first["seq"])
    last_seen = first["seq"]
    await visitor.close()

    # While the visitor is away, the conversation goes on.
    missed = [await operator.say(dialog_id, f"Answer {n}") for n in (2, 3, 4)]

    back = await Visitor.connect(
        server, line=line["id"], token=visitor.token, resume={"dialog_id": dialog_id, "last_seq": last_seen}
    )
    assert back.welcome["resumed"] is True
    assert [m["seq"] for m in back.welcome["messages"]] == [a["seq"] for a in missed]
    assert [m["text"] for m in back.welcome["messages"]] == ["Answer 2", "Answer 3", "Answer 4"]

    live = await operator.say(dialog_id, "Answer 5")
    got = await back.expect("message")
    assert got["seq"] == live["seq"]
    assert await back.remaining() == []  # nothing repeated
    await back.close()
    await operator.close()


async def test_messages_published_while_resuming_are_neither_lost_nor_repeated(server):
    token = login(server)
    line = make_line(server, token)
    operator = await OperatorClient.connect(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    ack = await visitor.say("Hello")
    dialog_id = ack["dialog_id"]
    await operator.join(dialog_id)
    await visitor.close()

    async def keep_talking() -> list[int]:
        sent = []
        for n in range(40):
            server.clock.advance(0.2)  # stay within the operator's frame rate limit
            sent.append((await operator.say(dialog_id, f"burst {n}"))["seq"])
        return sent

    talking = asyncio.create_task(keep_talking())
    reconnects = []
    for _ in range(3):  # reconnect several times while the operator keeps writing
        reconnects.append(
            await Visitor.connect(
                server, line=line["id"], token=visitor.token, resume={"dialog_id": dialog_id, "last_seq": ack["seq"]}
            )
        )
    sent = await talking
    for client in reconnects:
        received = [m["seq"] for m in client.welcome["messages"]]
        while not received or received[-1] < sent[-1]:
            received.append((await client.expect("message"))["seq"])
        assert received == list(range(ack["seq"] + 1, sent[-1] + 1))  # every seq, once, in order
        await client.close()
    await operator.close()


async def test_conversation_survives_a_server_restart(fresh_server):
    server = fresh_server.start()
    token = login(server)
    line = make_line(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    ack = await visitor.say("Remember me")
    await visitor.close()

    server.restart()

    back = await Visitor.connect(server, line=line["id"], token=visitor.token)
    assert back.welcome["visitor"]["id"] == visitor.welcome["visitor"]["id"]
    assert back.welcome["dialog"]["id"] == ack["dialog_id"]
    assert [m["text"] for m in back.welcome["messages"]] == ["Hi there!", "Remember me"]
    # The operator's session survives too: sessions live in the database.
    operator = await OperatorClient.connect(server, token)
    assert ack["dialog_id"] in [d["id"] for d in operator.ready["dialogs"]]
    await back.close()
    await operator.close()
