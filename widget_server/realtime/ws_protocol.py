"""uvicorn's sans-I/O WebSocket protocol, with a way to write a frame that was encoded once for every client.

Through ASGI, each frame to each client is a trip down the middleware's `send` wrappers into the protocol, which
frames the text again for that one client. A server's frames are not masked, so a message's frame is the same
bytes for every client: the bus encodes it once (`Event.wire`) and a connection with nothing queued before it
writes those bytes straight to its socket, in the publisher's turn, as `websockets.broadcast()` does.

The protocol offers that writer in the ASGI scope (`scope["extensions"]["openline.wire"]`); it refuses (returns
False) whenever the plain path must be taken: the connection is not open, a close was sent, an extension such as
per-message compression must transform frames, or the socket's buffer is full and the sender must wait for it.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

WIRE_EXTENSION = "openline.wire"


def text_frame(payload: bytes) -> bytes:
    """A complete, unmasked text frame carrying `payload` (UTF-8): what a server sends."""
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


class WireProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # absent when the handshake was refused
        if scope is not None:
            scope["extensions"][WIRE_EXTENSION] = self.write_wire

    def write_wire(self, wire: bytes) -> bool:
        """Write a frame made by `text_frame`; False when it must go through ASGI `send` instead."""
        if (
            self.close_sent
            or self.disconnected
            or not self.writable.is_set()
            or self.conn.state is not State.OPEN
            or self.conn.extensions
        ):
            return False
        self.transport.write(wire)
        return True
