"""Managing the team from the console: every change to who may do what is in the audit log, and an operator's
open consoles lose at once what an admin takes away."""

from __future__ import annotations

from tests.support.clients import api, login, make_line, new_id


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
