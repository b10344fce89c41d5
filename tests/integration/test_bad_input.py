"""Every kind of bad input gets a typed error or the documented close code; everyone else keeps being served."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support.clients import OperatorClient, Visitor, api, login, make_line


async def _rejected(url: str, origin: str | None) -> tuple[int, dict]:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, origin=origin):  # type: ignore[arg-type]
            pass
    response = info.value.response
    return response.status_code, json.loads(response.body or b"{}")


async def test_handshake_refuses_a_missing_or_unknown_line_and_a_foreign_origin(server):
    token = login(server)
    line = make_line(server, token, allowed_origins=["https://site.example"])
    base = f"{server.ws_url}/ws/visitor"
    assert await _rejected(base, "https://site.example") == (
        400,
        {"error": {"code": "line_required", "message": "Add ?line=<line id> to the URL"}},
    )
    status, body = await _rejected(f"{base}?line=no-such-line", "https://site.example")
    assert (status, body["error"]["code"]) == (404, "unknown_line")
    for origin in (
        "https://site.example.evil.com",
        "http://site.example",
        "https://evil.com",
        None,
        "https://site.example:8443",
        "null",
    ):
        status, body = await _rejected(f"{base}?line={line['id']}", origin)
        assert (status, body["error"]["code"]) == (403, "origin_not_allowed"), origin
    # The real site gets in, whatever the case or an explicit default port.
    async with connect(f"{base}?line={line['id']}", origin="https://SITE.example:443") as ws:
        await ws.send(json.dumps({"type": "hello"}))
        assert json.loads(await ws.recv())["type"] == "welcome"


async def test_operator_socket_refuses_foreign_origins_and_bad_tokens(server):
    status, body = await _rejected(f"{server.ws_url}/ws/operator", "https://evil.example")
    assert (status, body["error"]["code"]) == (403, "origin_not_allowed")
    async with connect(f"{server.ws_url}/ws/operator", origin=server.url) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "auth", "token": "forged"}))
        assert json.loads(await ws.recv())["code"] == "unauthenticated"
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd.code == 4401
    async with connect(f"{server.ws_url}/ws/operator", origin=server.url) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "join", "dialog_id": 1}))  # no auth first
        assert json.loads(await ws.recv())["code"] == "unauthenticated"
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd.code == 4401


@pytest.mark.parametrize(
    ("frame", "code", "mentions"),
    [
        ("not json at all", "bad_json", "JSON"),
        ("[1, 2, 3]", "bad_json", "object"),
        ({"type": "dance"}, "unknown_type", "type"),
        ({"no": "type"}, "unknown_type", "type"),
        ({"type": "send", "text": "hi"}, "invalid", "client_msg_id"),
        ({"type": "send", "client_msg_id": "short", "text": "hi"}, "invalid", "client_msg_id"),
        ({"type": "send", "client_msg_id": "valid-id-1", "text": "   "}, "invalid", "text"),
        ({"type": "send", "client_msg_id": "valid-id-2", "text": 42}, "invalid", "text"),
        ({"type": "send", "client_msg_id": "valid-id-3", "text": "bell\x07"}, "invalid", "control"),
        ({"type": "send", "client_msg_id": "valid-id-4", "text": "x" * 4001}, "too_long", "4000"),
        ({"type": "seen", "seq": -1}, "invalid", "seq"),
        ({"type": "typing", "active": "maybe"}, "invalid", "active"),
    ],
)
async def test_bad_visitor_frames_get_typed_errors_and_the_connection_lives_on(server, frame, code, mentions):
    token = login(server)
    line = make_line(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    await visitor.send(frame)
    error = await visitor.expect("error")
    assert error["code"] == code
    assert mentions in error["message"]
    # Nothing half-written: the bad frame created no dialog.
    with api(server, token) as client:
        mine = [d for d in client.get("/api/dialogs").json()["items"] if d["line"]["id"] == line["id"]]
    assert mine == []
    # And the same connection still works.
    ack = await visitor.say("still here")
    assert ack["seq"] == 2
    await visitor.close()


async def test_binary_frames_and_frames_before_hello_are_refused(server):
    token = login(server)
    line = make_line(server, token)
    visitor = await Visitor.connect(server, line=line["id"], hello=False)
    await visitor.send({"type": "send", "client_msg_id": "early-bird", "text": "hi"})
    error = await visitor.expect("error")
    assert (error["code"], error["ref"]) == ("hello_required", "early-bird")
    await visitor.send({"type": "hello", "line": "some-other-line"})
    assert (await visitor.expect("error"))["code"] == "line_mismatch"
    await visitor.send({"type": "hello", "line": line["id"]})
    await visitor.expect("welcome")
    await visitor.send(b"\x00\x01binary")
    assert (await visitor.expect("error"))["code"] == "bad_frame"
    await visitor.close()


async def test_a_frame_over_the_size_cap_closes_with_1009_and_others_are_unaffected(server):
    token = login(server)
    line = make_line(server, token)
    bystander = await Visitor.connect(server, line=line["id"])
    visitor = await Visitor.connect(server, line=line["id"])
    await visitor.send({"type": "send", "client_msg_id": "huge-frame", "text": "x" * 20_000})
    with pytest.raises(ConnectionClosed) as closed:
        await visitor.recv()
    assert closed.value.rcvd.code == 1009
    assert (await bystander.say("unaffected"))["duplicate"] is False
    await bystander.close()


async def test_a_flood_is_refused_frame_by_frame_then_disconnected(server):
    token = login(server)
    line = make_line(server, token)
    bystander = await Visitor.connect(server, line=line["id"])
    visitor = await Visitor.connect(server, line=line["id"])
    # The injected clock stands still, so the bucket (burst 30, hello used one) never refills.
    for _ in range(29 + 90):
        await visitor.send({"type": "ping"})
    pongs = errors = 0
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            frame = await visitor.recv()
            pongs += frame["type"] == "pong"
            errors += frame.get("code") == "rate_limited"
    assert pongs == 29
    assert errors == 90
    assert closed.value.rcvd.code == 1008
    # After the clock moves on, the rate limit lets honest clients through again.
    server.clock.advance(10)
    assert (await bystander.say("the server still serves others"))["duplicate"] is False
    await bystander.close()


async def test_rest_errors_are_json_with_a_message(server):
    bad_login = httpx.post(f"{server.url}/api/login", json={"email": "operator@demo.openline", "password": "nope"})
    assert bad_login.status_code == 401
    assert bad_login.json()["error"]["code"] == "bad_credentials"
    malformed = httpx.post(f"{server.url}/api/login", content=b"{not json")
    assert malformed.status_code == 400 and "error" in malformed.json()
    missing = httpx.post(f"{server.url}/api/login", json={"email": "a@b.c"})
    assert missing.status_code == 400 and "password" in missing.json()["error"]["message"]
    assert httpx.get(f"{server.url}/api/dialogs").status_code == 401
    token = login(server)
    with api(server, token) as client:
        bad_origin = client.post("/api/lines", json={"name": "x", "allowed_origins": ["javascript:alert(1)"]})
        assert bad_origin.status_code == 400 and "allowed_origins" in bad_origin.json()["error"]["message"]
        huge = client.post("/api/lines", content=b'{"name": "' + b"x" * 70_000 + b'"}')
        assert huge.status_code == 400 and huge.json()["error"]["code"] == "too_large"
        # The list of an operator's lines is capped alike when created and when changed.
        lines = [f"ln_{i}" for i in range(201)]
        operator_id = client.get("/api/operators").json()["items"][0]["id"]
        too_many = client.patch(f"/api/operators/{operator_id}", json={"line_ids": lines})
        assert too_many.status_code == 400 and "line_ids" in too_many.json()["error"]["message"]
        created = client.post(
            "/api/operators",
            json={"email": "many-lines@example.com", "name": "M", "password": "long-enough", "line_ids": lines},
        )
        assert created.status_code == 400 and "line_ids" in created.json()["error"]["message"]


async def test_cookie_authenticated_changes_from_another_site_are_refused(server):
    response = httpx.post(
        f"{server.url}/api/login", json={"email": "operator@demo.openline", "password": "demo-password-123"}
    )
    cookie = response.cookies["openline_session"]
    assert "httponly" in response.headers["set-cookie"].lower()
    forged = httpx.post(
        f"{server.url}/api/lines",
        json={"name": "csrf"},
        cookies={"openline_session": cookie},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "bad_origin"
    own = httpx.post(
        f"{server.url}/api/lines",
        json={"name": "fine", "allowed_origins": []},
        cookies={"openline_session": cookie},
        headers={"Origin": server.url},
    )
    assert own.status_code == 201


async def test_operator_bad_frames_get_typed_errors(server):
    operator = await OperatorClient.connect(server)
    await operator.send({"type": "join"})
    error = await operator.expect("error")
    assert error["code"] == "invalid" and "dialog_id" in error["message"]
    await operator.send({"type": "join", "dialog_id": "seven"})
    assert (await operator.expect("error"))["code"] == "invalid"
    await operator.send({"type": "hello"})
    assert (await operator.expect("error"))["code"] == "unknown_type"
    await operator.send({"type": "ping"})
    await operator.expect("pong")
    await operator.close()


async def test_an_origin_taken_off_a_line_is_refused_at_once_and_a_new_one_let_in(server):
    token = login(server)
    line = make_line(server, token, allowed_origins=["https://old.example"])
    url = f"{server.ws_url}/ws/visitor?line={line['id']}"
    async with connect(url, origin="https://old.example"):  # type: ignore[arg-type]
        pass  # read (and kept for a second by this process) before the change
    with api(server, token) as client:
        client.patch(f"/api/lines/{line['id']}", json={"allowed_origins": ["https://new.example"]}).raise_for_status()
    status, body = await _rejected(url, "https://old.example")
    assert (status, body["error"]["code"]) == (403, "origin_not_allowed")
    async with connect(url, origin="https://new.example"):  # type: ignore[arg-type]
        pass


async def test_a_second_hello_or_auth_changes_nothing_and_is_acknowledged_as_such(server):
    token = login(server)
    line = make_line(server, token)
    visitor = await Visitor.connect(server, line=line["id"])
    await visitor.send({"type": "hello", "line": line["id"]})
    ack = await visitor.expect("ack")
    assert (ack["duplicate"], ack["dialog_id"]) == (True, None)
    operator = await OperatorClient.connect(server, token)
    await operator.send({"type": "auth", "token": token})
    ack = await operator.expect("ack")
    assert (ack["duplicate"], ack["dialog_id"]) == (True, None)
    await visitor.close()
    await operator.close()
