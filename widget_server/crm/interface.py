"""What the server asks of a CRM."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.domain.contact_merge import ContactData


@dataclass(frozen=True)
class ChatContact:
    """Contact data a visitor left in a dialog, already validated and normalised."""

    data: ContactData
    dialog_id: int
    dialog_number: int
    line_id: str
    page_url: str | None
    linked_lead_id: int | None  # what the dialog is linked to already
    linked_contact_id: int | None


@dataclass(frozen=True)
class RecordRef:
    type: str  # lead | contact
    id: int
    title: str


@dataclass(frozen=True)
class Recorded:
    record: RecordRef
    created: bool  # a new lead was made
    filled: dict[str, str] = field(default_factory=dict)
    kept: dict[str, str] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "type": self.record.type,
            "id": self.record.id,
            "title": self.record.title,
            "created": self.created,
            "filled": sorted(self.filled),
            "kept": self.kept,
            "conflicts": self.conflicts,
        }


class Crm(Protocol):
    async def record_chat_contact(self, s: AsyncSession, contact: ChatContact) -> Recorded:
        """Find the client or lead the contact belongs to, fill what it lacks, or make a lead; in `s`'s transaction."""
        ...
