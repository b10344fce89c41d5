"""Real WebSocket and HTTP clients that speak docs/protocol.md, as the widget and the console do."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.support.live_server import ADMIN_EMAIL, ADMIN_PASSWORD, LiveServer

# Generous: a loaded 2-core CI machine can be slow; a passing test never waits this long.
TIMEOUT = 15.0


def new_id() -> str:
    return uuid.uuid4().hex


class Client:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []  # every frame received, in order
        self.pending: list[dict[str, Any]] = []  # received but not yet taken by expect()

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.seen.append(frame)
        return frame  # type: ignore[no-any-return]

    async def expect(
        self, type_: str, timeout: float = TIMEOUT, where: Callable[[dict[str, Any]], bool] | None = None, **match: Any
    ) -> dict[str, Any]:
        """The first frame of this type (and fields) not taken yet; others stay for later expects."""

        def matches(frame: dict[str, Any]) -> bool:
            return (
                frame.get("type") == type_
                and all(frame.get(k) == v for k, v in match.items())
                and (where is None or where(frame))
            )

        for index, frame in enumerate(self.pending):
            if matches(frame):
                return self.pending.pop(index)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - loop.time()))
            if matches(frame):
                return frame
            self.pending.append(frame)

    async def remaining(self) -> list[dict[str, Any]]:
        """Every frame not taken yet, up to the server's answer to a ping (which is not returned).

        Shows that nothing else came, without waiting for it not to: the server handles a connection's frames in
        order and queues the pong behind everything it had already queued for this socket, so every frame caused
        by what happened before the ping arrives before the pong. What time makes due is done first by
        `server.settle()`; an event from another process crosses Redis, which no pong on this socket can order.
        """
        await self.send({"type": "ping"})
        await self.expect("pong")
        frames, self.pending = self.pending, []
        return frames

    async def expect_reply(self, ref: str) -> dict[str, Any]:
        """The `ack` or the `error` answering the frame that carried `ref`."""
        return await self.expect_any(("ack", "error"), ref=ref)

    async def expect_any(self, types: tuple[str, ...], timeout: float = TIMEOUT, **match: Any) -> dict[str, Any]:
        for type_ in types:
            for index, frame in enumerate(self.pending):
                if frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items()):
                    return self.pending.pop(index)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - loop.time()))
            if frame.get("type") in types and all(frame.get(k) == v for k, v in match.items()):
                return frame
            self.pending.append(frame)

    async def close(self) -> None:
        await self.ws.close()


class Visitor(Client):
    token: str | None = None
    welcome: dict[str, Any]

    @classmethod
    async def connect(
        cls,
        server: LiveServer,
        line: str = "demo",
        token: str | None = None,
        resume: dict[str, int] | None = None,
        origin: str | None = None,
        hello: bool = True,
    ) -> Visitor:
        ws = await connect(f"{server.ws_url}/ws/visitor?line={line}", origin=origin or server.url)  # type: ignore[arg-type]
        visitor = cls(ws)
        if hello:
            frame: dict[str, Any] = {
                "type": "hello",
                "token": token,
                "page": {"url": f"{server.url}/demo", "title": "Demo shop"},
                "lang": "en-US",
            }
            if resume:
                frame["resume"] = resume
            await visitor.send(frame)
            visitor.welcome = await visitor.expect("welcome")
            visitor.token = visitor.welcome["visitor"]["token"]
        return visitor

    async def say(self, text: str, client_msg_id: str | None = None) -> dict[str, Any]:
        """Send a message and return its ack."""
        cid = client_msg_id or new_id()
        await self.send({"type": "send", "client_msg_id": cid, "text": text})
        return await self.expect("ack", ref=cid)

    async def open_chat(self) -> dict[str, Any]:
        ref = new_id()
        await self.send({"type": "open", "ref": ref})
        return await self.expect("ack", ref=ref)


def login(server: LiveServer, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> str:
    response = httpx.post(f"{server.url}/api/login", json={"email": email, "password": password})
    response.raise_for_status()
    return str(response.json()["token"])


def api(server: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})


class OperatorClient(Client):
    ready: dict[str, Any]

    @classmethod
    async def connect(cls, server: LiveServer, token: str | None = None) -> OperatorClient:
        token = token or login(server)
        ws = await connect(f"{server.ws_url}/ws/operator", origin=server.url)  # type: ignore[arg-type]
        operator = cls(ws)
        await operator.send({"type": "auth", "token": token})
        operator.ready = await operator.expect("ready")
        return operator

    async def join(self, dialog_id: int, last_seq: int = 0) -> dict[str, Any]:
        await self.send({"type": "join", "dialog_id": dialog_id, "last_seq": last_seq})
        return await self.expect("joined")

    async def say(self, dialog_id: int, text: str, client_msg_id: str | None = None) -> dict[str, Any]:
        cid = client_msg_id or new_id()
        await self.send({"type": "send", "dialog_id": dialog_id, "client_msg_id": cid, "text": text})
        return await self.expect("ack", ref=cid)

    async def note(self, dialog_id: int, text: str) -> dict[str, Any]:
        """Write a note; returns the ack (or the error)."""
        cid = new_id()
        return await _acked(self, {"type": "note", "dialog_id": dialog_id, "client_msg_id": cid, "text": text}, cid)

    async def status(self, dialog_id: int, status: str) -> dict[str, Any]:
        ref = new_id()
        return await _acked(self, {"type": "status", "dialog_id": dialog_id, "status": status, "ref": ref}, ref)

    async def leave(self, dialog_id: int) -> dict[str, Any]:
        ref = new_id()
        return await _acked(self, {"type": "leave", "dialog_id": dialog_id, "ref": ref}, ref)

    async def assign(self, dialog_id: int, operator_id: int, mode: str = "transfer") -> dict[str, Any]:
        ref = new_id()
        frame = {"type": "assign", "dialog_id": dialog_id, "operator_id": operator_id, "mode": mode, "ref": ref}
        return await _acked(self, frame, ref)


def make_line(server: LiveServer, token: str, **fields: Any) -> dict[str, Any]:
    """A line of its own for a test, so tests on one server do not see each other's dialogs."""
    body = {"name": fields.pop("name", "Test line"), "allowed_origins": [server.url], "greeting": "Hi there!"}
    body.update(fields)
    with api(server, token) as client:
        response = client.post("/api/lines", json=body)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]


async def _acked(client: Client, frame: dict[str, Any], ref: str) -> dict[str, Any]:
    await client.send(frame)
    return await client.expect_reply(ref)


def make_operator(
    server: LiveServer, admin_token: str, line_ids: list[str], role: str = "operator", name: str | None = None
) -> tuple[dict[str, Any], str]:
    """A new operator on `line_ids`; returns the operator and their token."""
    email = f"op-{new_id()[:10]}@example.com"
    with api(server, admin_token) as client:
        response = client.post(
            "/api/operators",
            json={
                "email": email,
                "name": name or email.split("@")[0],
                "password": "long-enough-pw",
                "role": role,
                "line_ids": line_ids,
            },
        )
        response.raise_for_status()
        created = response.json()
    return created, login(server, email, "long-enough-pw")
