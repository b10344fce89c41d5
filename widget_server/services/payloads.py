"""The payloads of the frames about dialogs and messages, built from their rows (the same for every audience)."""

from __future__ import annotations

from typing import Any

from widget_server.domain.timestamps import iso
from widget_server.storage.snapshots import DialogView, MessageView


def visitor_display_name(visitor_id: int, name: str | None) -> str:
    return name or f"Visitor #{visitor_id}"


def message_payload(
    message: MessageView, author_name: str | None, file: dict[str, Any] | None = None
) -> dict[str, Any]:
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


def dialog_info(dialog: DialogView, operator_name: str | None) -> dict[str, Any]:
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
