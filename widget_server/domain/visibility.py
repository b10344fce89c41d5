"""Who may see which entries of a dialog.

Every entry of a dialog is a message with a `kind`. Visitors (the widget, its history and resume, transcripts and
e-mails) see only the kinds in `VISITOR_KINDS`; staff see everything. A staff-only entry still takes a `seq`, so
a visitor's sequence may skip numbers: that tells them that *something* staff-only happened, never what.

| kind       | what                                           | visitor | staff |
|------------|------------------------------------------------|---------|-------|
| `text`     | written by the visitor, an operator or the bot | yes     | yes   |
| `file`     | a file attached by the visitor or an operator  | yes     | yes   |
| `system`   | a notice both sides see (joined, closed...)    | yes     | yes   |
| `note`     | an operator's note                             | no      | yes   |
| `internal` | a notice for staff (status set, chat linked)   | no      | yes   |
"""

from __future__ import annotations

from enum import StrEnum


class Audience(StrEnum):
    VISITOR = "visitor"
    STAFF = "staff"


class Kind(StrEnum):
    TEXT = "text"
    FILE = "file"
    SYSTEM = "system"
    NOTE = "note"
    INTERNAL = "internal"


VISITOR_KINDS = frozenset({Kind.TEXT, Kind.FILE, Kind.SYSTEM})
STAFF_ONLY_KINDS = frozenset({Kind.NOTE, Kind.INTERNAL})
# Kinds that are a conversation turn: they count for "last message" previews and for "unanswered".
WRITTEN_KINDS = frozenset({Kind.TEXT, Kind.FILE})


def visible_to(audience: Audience, kind: str) -> bool:
    if audience is Audience.STAFF:
        return True
    return kind in VISITOR_KINDS
