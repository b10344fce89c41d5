"""A lean WebSocket client on a bare asyncio Protocol, so that one core can drive thousands of connections.

The load generator must not be the bottleneck it measures. A full client library validates, buffers and
schedules a task per connection; this one parses server frames in `data_received` and hands each text frame
to a callback, synchronously. Client frames are masked with the all-zero key (RFC 6455 requires a mask, and a
zero key leaves the payload as it is, so nothing is copied); servers accept it.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Callable
from typing import Any

import orjson

_KEY = base64.b64encode(os.urandom(16)).decode()
_ZERO_MASK = b"\x00\x00\x00\x00"


class HandshakeRefused(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(f"handshake refused: {status}")
        self.status = status


class WsClient(asyncio.Protocol):
    """One connection. Subclasses override `on_message(dict)` and `on_lost()`."""

    def __init__(self, host: str, port: int, path: str, origin: str | None) -> None:
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {_KEY}\r\nSec-WebSocket-Version: 13\r\n"
            + (f"Origin: {origin}\r\n" if origin else "")
            + "\r\n"
        ).encode()
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._upgraded = False
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closing = False  # we closed it on purpose
        self.lost = False

    # -- asyncio.Protocol ----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self._upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")]).decode("latin-1")
            del buffer[: end + 4]
            if " 101 " not in status:
                if not self.opened.done():
                    self.opened.set_exception(HandshakeRefused(status))
                self.abort()
                return
            self._upgraded = True
            if not self.opened.done():
                self.opened.set_result(None)
        offset, size = 0, len(buffer)
        while size - offset >= 2:
            b0, b1 = buffer[offset], buffer[offset + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if size - offset < 4:
                    break
                length = struct.unpack_from("!H", buffer, offset + 2)[0]
                head = 4
            elif length == 127:
                if size - offset < 10:
                    break
                length = struct.unpack_from("!Q", buffer, offset + 2)[0]
                head = 10
            if size - offset < head + length:
                break
            start = offset + head
            payload = bytes(buffer[start : start + length])
            offset = start + length
            opcode = b0 & 0x0F
            if opcode == 1:
                self.on_message(orjson.loads(payload))
            elif opcode == 9:
                self._write_frame(0xA, payload)
            elif opcode == 8:
                self.abort()
                break
        if offset:
            del buffer[:offset]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed before the handshake"))
        self.on_lost()

    # -- use ----------------------------------------------------------------------------------------

    def _write_frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        self.transport.write(head + _ZERO_MASK + payload)

    def send(self, frame: dict[str, Any]) -> None:
        self._write_frame(0x1, orjson.dumps(frame))

    def send_raw(self, payload: bytes) -> None:
        self._write_frame(0x1, payload)

    def abort(self) -> None:
        """Drop the connection without a closing handshake (a reset), as a lost network does."""
        self.closing = True
        if self.transport is not None:
            self.transport.abort()

    def on_message(self, frame: dict[str, Any]) -> None:  # pragma: no cover - overridden
        pass

    def on_lost(self) -> None:  # pragma: no cover - overridden
        pass


class SourceAddresses:
    """Spreads outgoing connections over 127.0.0.2, .3 ...: each source address has only ~28k ephemeral ports."""

    def __init__(self, count: int = 40) -> None:
        self._addresses = [f"127.0.0.{i}" for i in range(2, 2 + count)]
        self._next = 0

    def take(self) -> str:
        address = self._addresses[self._next % len(self._addresses)]
        self._next += 1
        return address


async def connect(
    factory: Callable[[], WsClient], host: str, port: int, source: str, handshake_seconds: float = 60.0
) -> WsClient:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(factory, host, port, local_addr=(source, 0))
    await asyncio.wait_for(asyncio.shield(client.opened), handshake_seconds)
    return client
