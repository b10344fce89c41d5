"""The server's WebSocket pings: a client that answers stays connected, one that went silent is closed (1011)."""

from __future__ import annotations

import asyncio
import base64
import os
import struct

from tests.support.clients import Visitor, login, make_line, new_id


async def _silent_client(server, line_id: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket handshake by hand, after which the client never answers anything (a laptop gone to sleep)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /ws/visitor?line={line_id} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {server.url}\r\n\r\n"
        ).encode()
    )
    status = await reader.readuntil(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 101")
    return reader, writer


async def _frames_until_closed(reader: asyncio.StreamReader) -> list[tuple[int, bytes]]:
    frames = []
    while True:
        try:
            head = await reader.readexactly(2)
        except asyncio.IncompleteReadError:
            return frames
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
        frames.append((opcode, await reader.readexactly(length)))


async def test_a_client_that_stops_answering_pings_is_closed_and_one_that_answers_stays(fresh_server):
    fresh_server.overrides = fresh_server.overrides | {"ws_ping_seconds": 0.3, "ws_ping_timeout_seconds": 0.5}
    server = fresh_server.start()
    line = make_line(server, login(server))
    alive = await Visitor.connect(server, line=line["id"])  # the websockets library answers pings by itself
    reader, writer = await _silent_client(server, line["id"])
    async with asyncio.timeout(15):
        frames = await _frames_until_closed(reader)
    writer.close()
    opcodes = [opcode for opcode, _ in frames]
    assert 0x9 in opcodes, "the server pinged"
    close = frames[-1]
    assert close[0] == 0x8 and struct.unpack("!H", close[1][:2])[0] == 1011
    # By now the answering client has been pinged several times: it is still served.
    ack = await alive.say("still here", client_msg_id=new_id())
    assert ack["seq"] >= 1
    await alive.close()
