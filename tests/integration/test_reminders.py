"""A reminder fires once at its time (injected clock), tells the operator's console, and survives a restart."""

from __future__ import annotations

from datetime import timedelta

from tests.support.clients import OperatorClient, Visitor, api, login, make_line, make_operator
from widget_server.domain.timestamps import iso


async def reminders_by_now(server, operator: OperatorClient) -> list[dict]:
    """The reminder frames `operator` got and did not take yet, once every timer due by the clock has run."""
    await server.settle()
    return [f for f in await operator.remaining() if f["type"] == "reminder"]


def remind_in(server, token: str, seconds: int, text: str, dialog_id: int | None = None) -> dict:
    when = iso(server.clock.now() + timedelta(seconds=seconds))
    with api(server, token) as client:
        response = client.post("/api/reminders", json={"text": text, "remind_at": when, "dialog_id": dialog_id})
        assert response.status_code == 201, response.text
        return response.json()


async def test_a_reminder_fires_once_at_its_time(server):
    admin = login(server)
    line = make_line(server, admin)
    _, token = make_operator(server, admin, [line["id"]])
    _, colleague_token = make_operator(server, admin, [line["id"]])
    visitor = await Visitor.connect(server, line=line["id"])
    dialog_id = (await visitor.say("Call me back tomorrow"))["dialog_id"]
    operator = await OperatorClient.connect(server, token)
    second_tab = await OperatorClient.connect(server, token)
    colleague = await OperatorClient.connect(server, colleague_token)
    reminder = remind_in(server, token, 600, "Call back", dialog_id)

    server.clock.advance(599)
    assert await reminders_by_now(server, operator) == []
    server.clock.advance(2)
    fired = await operator.expect("reminder")
    assert fired["reminder"]["id"] == reminder["id"] and fired["reminder"]["text"] == "Call back"
    assert fired["reminder"]["dialog"]["id"] == dialog_id
    assert (await second_tab.expect("reminder"))["reminder"]["id"] == reminder["id"]  # every tab of hers
    server.clock.advance(3600)
    assert await reminders_by_now(server, operator) == []  # once
    assert [f for f in await colleague.remaining() if f["type"] == "reminder"] == []  # hers alone

    # Until she dismisses it, a fired reminder is waiting for her in `ready`.
    again = await OperatorClient.connect(server, token)
    assert [r["id"] for r in again.ready["reminders"]] == [reminder["id"]]
    with api(server, token) as client:
        assert client.post(f"/api/reminders/{reminder['id']}/dismiss").status_code == 200
        assert client.get("/api/reminders").json()["items"] == []
    fresh = await OperatorClient.connect(server, token)
    assert fresh.ready["reminders"] == []
    for client in (operator, second_tab, colleague, again, fresh, visitor):
        await client.close()


async def test_a_reminder_set_before_a_restart_fires_after_it_once(fresh_server):
    server = fresh_server.start()
    admin = login(server)
    line = make_line(server, admin)
    _, token = make_operator(server, admin, [line["id"]])
    reminder = remind_in(server, token, 3600, "Check the refund")
    cancelled = remind_in(server, token, 3600, "Never mind")
    with api(server, token) as client:
        client.post(f"/api/reminders/{cancelled['id']}/dismiss").raise_for_status()

    server.restart()
    operator = await OperatorClient.connect(server, token)
    assert operator.ready["reminders"] == []
    server.clock.advance(3601)
    fired = await operator.expect("reminder")
    assert fired["reminder"]["id"] == reminder["id"]
    server.clock.advance(60)
    assert await reminders_by_now(server, operator) == []  # neither again nor the dismissed
    await operator.close()

    # Fired while nobody was connected, across another restart: waiting in `ready`.
    later = remind_in(server, token, 60, "While you were away")
    server.restart()
    server.clock.advance(61)
    await server.settle()
    with api(server, token) as client:
        assert any(r["id"] == later["id"] and r["fired_at"] for r in client.get("/api/reminders").json()["items"])
    back = await OperatorClient.connect(server, token)
    assert {r["id"] for r in back.ready["reminders"]} == {reminder["id"], later["id"]}
    await back.close()


async def test_a_reminder_in_the_past_is_refused(server):
    admin = login(server)
    with api(server, admin) as client:
        when = iso(server.clock.now() - timedelta(hours=2))
        response = client.post("/api/reminders", json={"text": "late", "remind_at": when})
    assert response.status_code == 400 and "passed" in response.json()["error"]["message"]


async def test_a_reminder_about_a_dialog_the_operator_lost_access_to_fires_without_the_dialog(server):
    admin = login(server)
    line = make_line(server, admin)
    other = make_line(server, admin)
    olga, token = make_operator(server, admin, [line["id"], other["id"]])
    visitor = await Visitor.connect(server, line=line["id"])
    dialog_id = (await visitor.say("Ring me on Monday"))["dialog_id"]
    reminder = remind_in(server, token, 600, "Ring the customer", dialog_id)
    # Olga moves to the other line before her reminder's time.
    with api(server, admin) as client:
        assert client.patch(f"/api/operators/{olga['id']}", json={"line_ids": [other["id"]]}).status_code == 200

    operator = await OperatorClient.connect(server, token)
    server.clock.advance(601)
    fired = (await operator.expect("reminder"))["reminder"]
    # Still her reminder, with its text, but no way into a dialog she may no longer open.
    assert fired["id"] == reminder["id"] and fired["text"] == "Ring the customer" and fired["dialog"] is None
    with api(server, token) as client:
        [listed] = [r for r in client.get("/api/reminders").json()["items"] if r["id"] == reminder["id"]]
        assert listed["dialog"] is None
        assert client.get(f"/api/dialogs/{dialog_id}").status_code == 403
    again = await OperatorClient.connect(server, token)
    assert [r["dialog"] for r in again.ready["reminders"] if r["id"] == reminder["id"]] == [None]
    for client in (operator, again, visitor):
        await client.close()
