"""What the world is told after a change has been committed, and who is told.

An event is encoded once, whatever the number of connections it goes to. `dialog_id` and `seq` travel beside
the frame so that a connection can order and deduplicate messages without parsing JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from widget_server.realtime.ws_protocol import text_frame
from widget_server.storage.tables import Dialog, Message


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


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def visitor_display_name(visitor_id: int, name: str | None) -> str:
    return name or f"Visitor #{visitor_id}"


def message_payload(message: Message, author_name: str | None, file: dict[str, Any] | None = None) -> dict[str, Any]:
    payload = {
        "type": "message",
        "dialog_id": message.dialog_id,
        "seq": message.seq,
        "kind": message.kind,
        "code": message.code,
        "author": {"type": message.author_type, "name": author_name},
        "text": message.body,
        "client_msg_id": message.client_msg_id,
        "data": message.data,
        "created_at": iso(message.created_at),
    }
    if file is not None:
        payload["file"] = file
    return payload


def operator_ref(operator_id: int | None, names: dict[int, str]) -> dict[str, Any] | None:
    if operator_id is None:
        return None
    return {"id": operator_id, "name": names.get(operator_id, "")}


def dialog_info(dialog: Dialog, operator_name: str | None) -> dict[str, Any]:
    """The dialog as the visitor sees it."""
    return {
        "id": dialog.id,
        "number": dialog.number,
        "status": dialog.status,
        "operator": None if dialog.operator_id is None else {"id": dialog.operator_id, "name": operator_name},
        "last_seq": dialog.last_seq,
        "visitor_seen_seq": dialog.visitor_seen_seq,
        "operator_seen_seq": dialog.operator_seen_seq,
    }
