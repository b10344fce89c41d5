"""The inbox list against a seeded database, on SQLite and PostgreSQL: every filter, and filters combined."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from tests.support.clients import OperatorClient, Visitor, api, login, make_line, make_operator
from widget_server.services import inbox
from widget_server.storage.database import Database
from widget_server.storage.tables import Visitor as VisitorRow


async def name_visitor(server, visitor_id: int, name: str) -> None:
    """Visitors get names from the contact form (another feature); here the row is named directly."""
    db = Database(server.database_url)
    try:
        async with db.write() as s:
            await s.execute(update(VisitorRow).where(VisitorRow.id == visitor_id).values(name=name))
    finally:
        await db.dispose()


def listed(client: httpx.Client, **params) -> list[int]:
    response = client.get("/api/dialogs", params=params)
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()["items"]]


async def seed(server):
    """Six dialogs on two lines, in every state the filters tell apart.

    | dialog | line | status      | responsible | added | visitor waits | words                 |
    |--------|------|-------------|-------------|-------|---------------|-----------------------|
    | d1     | L1   | new         | -           | -     | yes           | ship Spain            |
    | d2     | L1   | in_progress | Anna        | -     | no            | invoice               |
    | d3     | L1   | waiting     | Boris       | -     | no            | refund order          |
    | d4     | L1   | finished    | Anna        | -     | no            | warranty              |
    | d5     | L1   | in_progress | Boris       | Anna  | yes           | (note) marmalade      |
    | d6     | L2   | new         | -           | -     | yes           | Margarita's, courier  |
    """
    admin = login(server)
    l1 = make_line(server, admin, name="Filters L1", greeting="")
    l2 = make_line(server, admin, name="Filters L2", greeting="")
    anna, anna_token = make_operator(server, admin, [l1["id"], l2["id"]], name="Anna")
    boris, boris_token = make_operator(server, admin, [l1["id"]], name="Boris")
    a = await OperatorClient.connect(server, anna_token)
    b = await OperatorClient.connect(server, boris_token)

    async def dialog(line, text):
        visitor = await Visitor.connect(server, line=line["id"])
        ack = await visitor.say(text)
        return visitor, ack["dialog_id"]

    v1, d1 = await dialog(l1, "Do you ship to Spain?")
    v2, d2 = await dialog(l1, "Where is my invoice?")
    await a.say(d2, "Sent it again.")
    v3, d3 = await dialog(l1, "I want a refund for my order")
    await b.say(d3, "Which order number?")
    assert (await b.status(d3, "waiting"))["type"] == "ack"
    v4, d4 = await dialog(l1, "Is there a warranty?")
    await a.say(d4, "Two years.")
    assert (await a.status(d4, "finished"))["type"] == "ack"
    v5, d5 = await dialog(l1, "Hello?")
    await b.say(d5, "Hi!")
    assert (await b.assign(d5, anna["id"], "add"))["type"] == "ack"
    await a.note(d5, "Customer likes marmalade")
    server.clock.advance(1)
    await v5.say("Are you there?")
    v6, d6 = await dialog(l2, "Send a courier please")
    await name_visitor(server, v6.welcome["visitor"]["id"], "Margarita Lopez")
    for client in (a, b, v1, v2, v3, v4, v5, v6):
        await client.close()
    return {
        "d": (d1, d2, d3, d4, d5, d6),
        "anna": anna,
        "boris": boris,
        "anna_token": anna_token,
        "boris_token": boris_token,
    }


async def test_every_filter_and_their_combinations(server, monkeypatch):
    world = await seed(server)
    d1, d2, d3, d4, d5, d6 = world["d"]
    anna, boris = world["anna"]["id"], world["boris"]["id"]
    cases = [
        ({}, {d1, d2, d3, d5, d6}),  # open dialogs by default
        ({"status": "all"}, {d1, d2, d3, d4, d5, d6}),
        ({"status": "finished"}, {d4}),
        ({"status": ["new", "waiting"]}, {d1, d3, d6}),
        ({"channel": "website"}, {d1, d2, d3, d5, d6}),
        ({"type": "unassigned"}, {d1, d6}),
        ({"type": "mine"}, {d2, d5}),  # responsible for d2, added to d5
        ({"type": "mine", "status": "all"}, {d2, d4, d5}),
        ({"type": "unanswered"}, {d1, d5, d6}),
        ({"type": ["unassigned", "mine"]}, {d1, d2, d5, d6}),
        ({"operator": str(boris)}, {d3, d5}),
        ({"operator": [str(anna), str(boris)]}, {d2, d3, d5}),
        ({"operator": str(boris), "type": "unanswered"}, {d5}),
        ({"operator": str(anna), "status": "finished"}, {d4}),
        ({"q": "spain"}, {d1}),
        ({"q": "SPA"}, {d1}),  # a prefix, any case
        ({"q": "refund order"}, {d3}),  # every word
        ({"q": "refund spain"}, set()),
        ({"q": "warranty"}, set()),  # finished: not in the open list...
        ({"q": "warranty", "status": "all"}, {d4}),  # ...but found among all
        ({"q": "marmalade"}, {d5}),  # notes are searchable by staff
        ({"q": "margarita"}, {d6}),  # the client's name
        ({"q": "courier", "type": "unassigned"}, {d6}),
        ({"q": "courier", "type": "mine"}, set()),
        ({"q": "spain", "channel": "website", "type": "unanswered", "status": "new"}, {d1}),
    ]
    with api(server, world["anna_token"]) as client:
        for params, expected in cases:
            assert set(listed(client, **params)) == expected, params
        # SQLite answers a search one of two ways, by how many messages match (services/inbox.py): both agree.
        monkeypatch.setattr(inbox, "DENSE_MATCHES", 0)
        for params, expected in cases:
            if "q" in params:
                assert set(listed(client, **params)) == expected, ("dense", params)
        monkeypatch.undo()
        number = client.get(f"/api/dialogs/{d4}").json()["dialog"]["number"]
        assert listed(client, q=f"#{number}", status="all") == [d4]

        # Newest activity first: d6 was written last, d5's visitor wrote just before.
        assert listed(client)[:2] == [d6, d5]
        # Pages follow each other without repeats or gaps.
        seen, cursor = [], None
        while True:
            page = client.get(
                "/api/dialogs", params={"status": "all", "limit": 2, **({"cursor": cursor} if cursor else {})}
            ).json()
            seen += [d["id"] for d in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == listed(client, status="all", limit=50)
        assert len(seen) == 6

        for bad in ({"status": "closed"}, {"type": "vip"}, {"channel": "fax"}, {"operator": "me"}, {"q": "!"}):
            response = client.get("/api/dialogs", params=bad)
            assert response.status_code == 400, bad
            assert response.json()["error"]["code"] == "invalid"

        # The summary carries what the filters look at (the console's live list checks the same facts).
        summary = next(d for d in client.get("/api/dialogs").json()["items"] if d["id"] == d5)
        assert summary["channel"] == "website"
        assert summary["operator"]["id"] == boris
        assert [o["id"] for o in summary["operators"]] == [anna]
        assert summary["unanswered"] is True and summary["waiting_since"]
        assert summary["last_message"]["text"] == "Are you there?"  # the note is not the preview

    # Boris works on line 1 only: line 2's dialog is out of his list and out of his searches.
    with api(server, world["boris_token"]) as client:
        assert set(listed(client, status="all")) == {d1, d2, d3, d4, d5}
        assert listed(client, q="courier") == []
        assert listed(client, q="margarita") == []
        assert set(listed(client, type="mine")) == {d3, d5}
