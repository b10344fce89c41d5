"""Read-only snapshots of rows, typed as their tables' models are, for the paths that read a row and only read it.

An ORM instance costs more to build (~0.3 ms, measured) than the read it came from; a named tuple of the row's
values costs about 1 µs (a frozen dataclass takes three times that: each field is set through
`object.__setattr__`). A function that takes a `LineView` (`OpenLine | LineSnapshot`) reads a line's attributes from
either; one that must change or persist the row takes the model. A snapshot cannot be changed, so nothing changes one
in the belief that it will be saved. tests/unit/test_snapshots.py checks that each has exactly its table's columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from widget_server.storage.tables import Attachment, Dialog, DialogForm, Message, OpenLine, Visitor


class LineSnapshot(NamedTuple):
    """A row of `open_lines` (`OpenLine`)."""

    id: str
    name: str
    greeting: str
    language: str
    time_zone: str
    allowed_origins: list[str]
    secret: str
    settings: dict[str, Any]
    created_at: datetime


class DialogSnapshot(NamedTuple):
    """A row of `dialogs` (`Dialog`)."""

    id: int
    number: int
    line_id: str
    visitor_id: int
    status: str
    channel: str
    operator_id: int | None
    waiting_since: datetime | None
    last_seq: int
    visitor_seen_seq: int
    operator_seen_seq: int
    page_url: str | None
    page_title: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    rating: str | None
    rating_comment: str | None
    rated_at: datetime | None
    lead_id: int | None
    contact_id: int | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> DialogSnapshot:
        """The snapshot of a row that holds more than the table's columns (a query's extra labels)."""
        return cls._make([row[name] for name in cls._fields])


class MessageSnapshot(NamedTuple):
    """A row of `messages` (`Message`). `id` is None for one the writer stored: it does not read the ids back."""

    id: int | None
    dialog_id: int
    seq: int
    kind: str
    author_type: str
    operator_id: int | None
    code: str | None
    body: str
    client_msg_id: str | None
    data: dict[str, Any] | None
    created_at: datetime


class VisitorSnapshot(NamedTuple):
    """A row of `visitors` (`Visitor`)."""

    id: int
    token_hash: str
    name: str | None
    language: str | None
    user_agent: str | None
    location: str | None
    email: str | None
    phone: str | None
    created_at: datetime
    last_seen_at: datetime


class FormSnapshot(NamedTuple):
    """A row of `dialog_forms` (`DialogForm`)."""

    id: int
    dialog_id: int
    visitor_id: int
    kind: str
    status: str
    step: str
    auto: bool
    values: dict[str, Any]
    last_ref: str | None
    shown_at: datetime
    closed_at: datetime | None


class AttachmentSnapshot(NamedTuple):
    """A row of `attachments` (`Attachment`)."""

    id: str
    dialog_id: int
    message_id: int | None
    name: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    uploader_type: str
    created_at: datetime


class VisitorContact(NamedTuple):
    """What a visitor told of themselves: the columns the welcome reads to fill in their open forms."""

    name: str | None
    email: str | None
    phone: str | None


# What a function that only reads a row takes: the model or its snapshot.
LineView = OpenLine | LineSnapshot
DialogView = Dialog | DialogSnapshot
MessageView = Message | MessageSnapshot
VisitorView = Visitor | VisitorSnapshot
FormView = DialogForm | FormSnapshot
AttachmentView = Attachment | AttachmentSnapshot
