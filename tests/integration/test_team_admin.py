"""Managing the team from the console: every change to who may do what is in the audit log, and an operator's
open consoles lose at once what an admin takes away."""

from __future__ import annotations

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.clients import Client, OperatorClient, Visitor, api, login, make_line, make_operator, new_id


async def closed_by_server(client: Client) -> tuple[int | None, list[dict]]:
    """Read until the server closes the socket: its close code, and the error frames it sent before."""
    try:
        while True:
            await client.recv()
    except ConnectionClosed:
        pass
    return client.ws.close_code, [f for f in client.seen if f["type"] == "error"]


async def still_served(client: OperatorClient) -> bool:
    await client.send({"type": "ping"})
    return (await client.expect("pong"))["type"] == "pong"


def audit_of(client, entity_type: str, entity_id: object) -> list[dict]:
    """This entity's entries, oldest first."""
    items = client.get("/api/audit", params={"limit": 500}).json()["items"]
    return [e for e in reversed(items) if e["entity"] == {"type": entity_type, "id": str(entity_id)}]


async def test_the_audit_log_records_team_line_and_canned_changes_but_never_a_password(server):
    admin = login(server)
    line = make_line(server, admin)
    email = f"audited-{new_id()[:8]}@example.com"
    secret = f"very-secret-{new_id()[:8]}"
    with api(server, admin) as client:
        created = client.post(
            "/api/operators",
            json={"email": email, "name": "Vera", "password": "first-password", "line_ids": [line["id"]]},
        )
        assert created.status_code == 201, created.text
        vera = created.json()["id"]
        other = make_line(server, admin)
        for change in (
            {"role": "admin"},
            {"role": "admin"},  # the same again changes nothing and records nothing
            {"is_active": False},
            {"is_active": True},
            {"line_ids": [other["id"]]},
            {"password": secret},
            {"name": "Vera K."},
        ):
            assert client.patch(f"/api/operators/{vera}", json=change).status_code == 200
        assert client.patch(f"/api/lines/{line['id']}", json={"greeting": "Hello!", "name": line["name"]}).is_success
        canned = client.post(f"/api/lines/{line['id']}/canned", json={"shortcut": "bye", "text": "Goodbye!"}).json()
        assert client.delete(f"/api/canned/{canned['id']}").status_code == 204

        entries = audit_of(client, "operator", vera)
        assert [e["action"] for e in entries] == [
            "operator.create",
            "operator.role",
            "operator.disable",
            "operator.enable",
            "operator.lines",
            "operator.password",
            "operator.rename",
        ]
        assert all(e["actor"]["email"] == "operator@demo.openline" for e in entries)
        assert entries[0]["details"] == {"email": email, "name": "Vera", "role": "operator", "line_ids": [line["id"]]}
        assert entries[1]["details"] == {"from": "operator", "to": "admin"}
        assert entries[4]["details"] == {"added": [other["id"]], "removed": [line["id"]]}
        assert entries[6]["details"] == {"from": "Vera", "to": "Vera K."}
        raw = client.get("/api/audit", params={"limit": 500}).text
        assert secret not in raw and "first-password" not in raw and "argon2" not in raw

        [created_line] = audit_of(client, "line", line["id"])[:1]
        assert created_line["action"] == "line.create" and created_line["details"]["name"] == line["name"]
        updates = [e for e in audit_of(client, "line", line["id"]) if e["action"] == "line.update"]
        # Only what changed: the name was sent unchanged.
        assert [u["details"] for u in updates] == [{"changed": {"greeting": {"from": "Hi there!", "to": "Hello!"}}}]
        [deleted] = audit_of(client, "canned", canned["id"])
        assert deleted["action"] == "canned.delete"
        assert deleted["details"] == {"line_id": line["id"], "shortcut": "bye", "title": "bye", "text": "Goodbye!"}
        assert audit_of(client, "line", other["id"])[0]["action"] == "line.create"


async def test_an_open_console_loses_a_line_at_once_when_an_admin_takes_it_away(server):
    admin = login(server)
    line = make_line(server, admin)
    other = make_line(server, admin)
    olga, token = make_operator(server, admin, [line["id"], other["id"]])
    console = await OperatorClient.connect(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    dialog_id = (await visitor.say("Hello?"))["dialog_id"]
    await console.expect("message", dialog_id=dialog_id)

    with api(server, admin) as client:
        assert client.patch(f"/api/operators/{olga['id']}", json={"line_ids": [other["id"]]}).status_code == 200
    # The console is told why, then closed with 4001: it reconnects and gets what the account may see now.
    code, errors = await closed_by_server(console)
    assert code == 4001 and [e["code"] for e in errors] == ["account_changed"]
    again = await OperatorClient.connect(server, token)
    assert again.ready["line_ids"] == [other["id"]]
    assert all(d["id"] != dialog_id for d in again.ready["dialogs"])
    await visitor.say("Still there?")
    assert [f for f in await again.remaining() if f.get("dialog_id") == dialog_id] == []
    refused = await again.note(dialog_id, "sneaky")
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    await again.close()
    await visitor.close()


async def test_a_demoted_admins_console_reconnects_as_an_operator_and_a_no_op_change_closes_nothing(server):
    admin = login(server)
    line = make_line(server, admin)
    ada, token = make_operator(server, admin, [line["id"]], role="admin")
    console = await OperatorClient.connect(server, token)
    bystander_token = make_operator(server, admin, [line["id"]])[1]
    bystander = await OperatorClient.connect(server, bystander_token)
    with api(server, admin) as client:
        assert client.patch(f"/api/operators/{ada['id']}", json={"role": "admin"}).status_code == 200
        assert await still_served(console)  # nothing changed: the console goes on
        assert client.patch(f"/api/operators/{ada['id']}", json={"role": "operator"}).status_code == 200
    code, _ = await closed_by_server(console)
    assert code == 4001
    again = await OperatorClient.connect(server, token)
    assert again.ready["operator"]["role"] == "operator"
    with api(server, token) as client:
        assert client.get("/api/audit").status_code == 403
    assert await still_served(bystander)  # other operators' consoles are not touched
    for client in (again, bystander):
        await client.close()


async def test_disabling_an_operator_or_logging_out_ends_the_open_consoles_of_that_session(server):
    admin = login(server)
    line = make_line(server, admin)
    olga, first = make_operator(server, admin, [line["id"]])
    second = login(server, olga["email"], "long-enough-pw")
    tab_one = await OperatorClient.connect(server, first)
    tab_two = await OperatorClient.connect(server, second)

    # Logging out ends that session's console only; the other session's console goes on.
    assert httpx.post(f"{server.url}/api/logout", headers={"Authorization": f"Bearer {first}"}).status_code == 204
    code, errors = await closed_by_server(tab_one)
    assert code == 4401 and [e["code"] for e in errors] == ["unauthenticated"]
    assert await still_served(tab_two)

    # Disabled: every console of theirs closes with 4401 (the console shows the login), and none opens again.
    with api(server, admin) as client:
        assert client.patch(f"/api/operators/{olga['id']}", json={"is_active": False}).status_code == 200
    code, errors = await closed_by_server(tab_two)
    assert code == 4401 and errors[-1]["code"] == "unauthenticated"
    refused = await connect_refused(server, second)
    assert refused == 4401


async def connect_refused(server, token: str) -> int | None:
    client = Client(await connect(f"{server.ws_url}/ws/operator", origin=server.url))
    await client.send({"type": "auth", "token": token})
    code, _ = await closed_by_server(client)
    return code
