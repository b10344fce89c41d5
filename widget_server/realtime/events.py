"""What the world is told after a change has been committed, and who is told.

An event is encoded once, whatever the number of connections it goes to. `dialog_id` and `seq` travel beside
the frame so that a connection can order and deduplicate messages without parsing JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from widget_server.realtime.ws_protocol import text_frame


@dataclass(frozen=True, slots=True)
class Event:
    frame: str
    dialog_id: int | None = None
    seq: int | None = None
    # The frame as WebSocket bytes, the same for every client (realtime/ws_protocol.py); made when first needed.
    _wire: list[bytes] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def of(cls, payload: dict[str, Any], dialog_id: int | None = None, seq: int | None = None) -> Event:
        return cls(orjson.dumps(payload).decode(), dialog_id, seq)

    @property
    def wire(self) -> bytes:
        if not self._wire:
            self._wire.append(text_frame(self.frame.encode()))
        return self._wire[0]


# An event and the topics it goes to: what a use case collects, and its unit of work publishes after the commit.
Published = tuple[tuple[str, ...], Event]


def line_topic(line_id: str) -> str:
    return f"line:{line_id}"


def visitor_topic(visitor_id: int, line_id: str) -> str:
    return f"visitor:{visitor_id}:{line_id}"


def operator_topic(operator_id: int) -> str:
    """One operator's own events (reminders), on every connection they have open."""
    return f"operator:{operator_id}"


# Told on the operator's own topic when their account or one of their sessions changed (role, lines, disabled,
# password, logged out): each open console checks its session again, on whichever process it is connected.
ACCOUNT_CHANGED = Event.of({"type": "account_changed"})
