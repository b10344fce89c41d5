"""What realtime/ws_protocol.py relies on in uvicorn's private sans-I/O WebSocket protocol, checked.

`WireProtocol` subclasses `WebSocketsSansIOProtocol`, which is not uvicorn's public API. pyproject.toml pins
uvicorn to the releases this contract was checked against; a new release must pass this file before the pin moves.
The first part reads the parent class (names, signatures, which of its methods use what); the second drives a
real uvicorn server with `WireProtocol`.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import socket
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.websockets import websockets_sansio_impl
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.asyncio.client import connect
from websockets.protocol import State
from websockets.server import ServerProtocol

from widget_server.realtime.ws_protocol import WIRE_EXTENSION, WireProtocol, text_frame

Parent = WebSocketsSansIOProtocol


def _methods() -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(websockets_sansio_impl)))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == Parent.__name__)
    return {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _self_attributes(node: ast.AST) -> Iterator[ast.Attribute]:
    """Every `self.<name>` in `node`."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "self":
            yield sub


def _used_on(attribute: str) -> set[str]:
    """The names the parent uses on `self.<attribute>` (`self.queue.put_nowait` -> "put_nowait")."""
    return {
        outer.attr
        for method in _methods().values()
        for outer in ast.walk(method)
        if isinstance(outer, ast.Attribute) and isinstance(inner := outer.value, ast.Attribute)
        if isinstance(inner.value, ast.Name) and inner.value.id == "self" and inner.attr == attribute
    }


def _methods_using(name: str) -> set[str]:
    """The parent's methods that mention `self.<name>` (a call or an attribute)."""
    return {m for m, node in _methods().items() if any(a.attr == name for a in _self_attributes(node))}


def _params(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


# --- The parent class, read ------------------------------------------------------------------------------------


def test_the_methods_we_override_or_call_keep_their_names_and_signatures():
    assert _params(Parent.__init__) == ["self", "config", "server_state", "app_state", "_loop"]
    assert _params(Parent.handle_connect) == ["self", "event"]
    for name in ("start_keepalive", "stop_keepalive", "schedule_ping", "send_keepalive_ping"):
        assert _params(getattr(Parent, name)) == ["self"], name
    assert _params(Parent.pause_writing) == ["self"] and _params(Parent.resume_writing) == ["self"]
    assert inspect.iscoroutinefunction(Parent.send) and _params(Parent.send) == ["self", "message"]


def test_our_inbox_and_writable_flag_offer_all_the_parent_uses_of_its_queue_and_event():
    # `_Inbox` and `_Flag` stand in for the parent's asyncio.Queue and asyncio.Event with only these methods.
    assert _used_on("queue") <= {"put_nowait", "get", "empty"}
    assert _used_on("writable") <= {"wait", "set", "clear", "is_set"}
    # Write flow control (uvicorn 0.52.1): the transport's pause clears the flag, resume sets it.
    assert "clear" in _used_on("writable") and _methods_using("writable") >= {"pause_writing", "resume_writing"}


def test_keepalive_goes_through_the_methods_we_override():
    # Our ping wheel replaces the parent's per-connection timer: the parent must schedule pings only through
    # `schedule_ping`, start them only in `start_keepalive`, and stop them only through `stop_keepalive`.
    assert _methods_using("ping_timer") <= {"__init__", "schedule_ping", "send_keepalive_ping", "stop_keepalive"}
    assert _methods_using("schedule_ping") <= {"start_keepalive", "handle_pong", "send_keepalive_ping"}
    assert _methods_using("start_keepalive") == {"send"}  # once the accepted handshake's response is written
    assert _methods_using("stop_keepalive") >= {"connection_lost", "shutdown"}
    assert _methods_using("last_ping_rtt") >= {"__init__", "handle_pong", "schedule_ping"}


def test_the_handshake_is_not_read_again_once_keepalive_starts():
    # `WireProtocol.start_keepalive` drops the response and empties the request's headers: the parent reads
    # them only while handshaking.
    assert _methods_using("response") <= {"handle_connect", "send"}
    assert _methods_using("request") <= {"handle_connect"}
    send = inspect.getsource(Parent.send)
    assert send.index("self.start_keepalive()") > send.rindex("self.response")


def test_the_state_write_wire_reads_is_there(loop_protocol):
    protocol = loop_protocol
    for name in ("close_sent", "disconnected", "transport", "loop", "ping_interval", "last_ping_rtt", "conn"):
        assert hasattr(protocol, name), name
    assert protocol.close_sent is False and protocol.disconnected is False
    assert isinstance(protocol.conn, ServerProtocol)
    assert protocol.conn.state is State.CONNECTING and protocol.conn.extensions == []


# --- A real server ---------------------------------------------------------------------------------------------


class _Observed(WireProtocol):
    """`WireProtocol` that tells the test when a pong came back and when the connection is gone."""

    pongs: asyncio.Queue[float]
    lost: asyncio.Event

    def handle_pong(self, event: Any) -> None:
        super().handle_pong(event)
        self.pongs.put_nowait(self.last_ping_rtt)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.lost.set()


async def test_a_real_server_writes_wire_frames_in_order_pings_on_the_wheel_and_refuses_when_it_must():
    protocols: asyncio.Queue[_Observed] = asyncio.Queue()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        write = scope["extensions"][WIRE_EXTENSION]
        protocol = write.__self__
        protocol.pongs, protocol.lost = asyncio.Queue(), asyncio.Event()
        await send({"type": "websocket.accept"})
        protocols.put_nowait(protocol)
        assert write(text_frame(b"by wire"))
        await send({"type": "websocket.send", "text": "by asgi"})  # after the wire frame, not before
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": "echo " + message["text"]})

    # Listening before uvicorn starts: the client's connection waits in the backlog until the server takes it.
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        ws=_Observed,
        ws_ping_interval=0.05,
        ws_per_message_deflate=False,  # as the server runs by default; a frame compressed per client is refused
        lifespan="off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(10):
        async with connect(f"ws://127.0.0.1:{sock.getsockname()[1]}/") as client:
            protocol = await protocols.get()
            assert [await client.recv(), await client.recv()] == ["by wire", "by asgi"]
            assert protocol.response is None and not protocol.request.headers  # dropped once accepted

            assert await protocol.pongs.get() > 0  # pinged from the wheel; the client answered
            assert protocol.ping_timer is None  # no timer of uvicorn's

            protocol.pause_writing()  # the socket's buffer is full: the bytes must wait in ASGI's send
            assert not protocol.write_wire(text_frame(b"refused"))
            protocol.resume_writing()
            assert protocol.write_wire(text_frame(b"after resume"))
            assert await client.recv() == "after resume"
            await client.send("hi")
            assert await client.recv() == "echo hi"
        await protocol.lost.wait()
        assert not protocol.write_wire(text_frame(b"too late"))
        server.should_exit = True
        await serving


# --- Fixtures --------------------------------------------------------------------------------------------------


async def _app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("not served")


def _protocol() -> WireProtocol:
    config = uvicorn.Config(_app, ws=WireProtocol, lifespan="off")
    return WireProtocol(config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop())


@pytest.fixture
async def loop_protocol() -> WireProtocol:
    return _protocol()
