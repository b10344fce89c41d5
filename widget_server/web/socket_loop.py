"""The read loop both endpoints share: limits, parsing and error frames around a per-frame handler."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from widget_server.errors import InvalidInput, OpenlineError, RateLimited
from widget_server.realtime.connection import CLOSE_FLOOD, Connection
from widget_server.realtime.frames import Frame, frame_ref, parse_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Acked:
    """What a frame that changed something is acknowledged with (docs/protocol.md, `ack`): the same for all."""

    ref: str | None
    dialog_id: int | None
    seq: int | None = None
    duplicate: bool = False
    form: bool = False  # a form's frame: its `form_id` is told too
    form_id: int | None = None

    @classmethod
    def of(cls, ref: str | None, outcome: Any, dialog_id: int | None = None) -> Acked:
        """An outcome of a use case (`seq`, `duplicate`) acknowledged for `ref`."""
        return cls(ref, dialog_id if dialog_id is not None else outcome.dialog.id, outcome.seq, outcome.duplicate)

    def frame(self) -> dict[str, Any]:
        frame = {"type": "ack", "ref": self.ref, "dialog_id": self.dialog_id, "seq": self.seq}
        if self.form:
            frame["form_id"] = self.form_id
        return frame | {"duplicate": self.duplicate}


# A frame's use case: what to acknowledge, or None when the frame is answered otherwise (or not at all).
Handler = Callable[[Frame], Awaitable[Acked | None]]


async def next_frame(conn: Connection, models: dict[str, type[Frame]]) -> Frame | None:
    """The next valid frame; bad ones are answered with an error frame and skipped. None: the client left."""
    while True:
        raw = await conn.receive()
        if raw is None:
            return None
        if not conn.allow_frame():
            if conn.flooding:
                conn.error(RateLimited("Too many frames; closing"))
                await conn.flush()
                await conn.close(CLOSE_FLOOD, "rate limit")
                return None
            conn.error(RateLimited("Too many frames; this one was ignored"))
            continue
        if isinstance(raw, bytes):
            conn.error(InvalidInput("Binary frames are not supported; send JSON text", "bad_frame"))
            continue
        try:
            return parse_frame(raw, models)
        except InvalidInput as exc:
            conn.error(exc, frame_ref(raw))


async def serve_frames(conn: Connection, models: dict[str, type[Frame]], handle: Handler) -> None:
    while not conn.closed:
        frame = await next_frame(conn, models)
        if frame is None:
            return
        ref = getattr(frame, "client_msg_id", None) or getattr(frame, "ref", None)
        try:
            acked = await handle(frame)
            if acked is not None:
                conn.reply(acked.frame())
        except OpenlineError as exc:
            conn.error(exc, ref)
            if exc.close_code is not None:
                await conn.flush()
                await conn.close(exc.close_code, exc.code)
                return
        except Exception:
            # A fault must cost the client this frame, not the connection: its transaction was rolled back.
            log.exception("handling a %s frame failed", type(frame).__name__)
            conn.error(OpenlineError("Something went wrong on the server; try again", "internal"), ref)
