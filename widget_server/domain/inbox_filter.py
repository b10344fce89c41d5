"""The inbox list's filter: what an operator asks to see, read from the URL's query string.

Facets combine with AND; the values inside one facet with OR (two channels: either channel). An empty facet
filters nothing. Without any `status`, the list shows the open dialogs; `status=all` shows every status.

| parameter  | values (repeat for several)                     | a dialog matches when                          |
|------------|-------------------------------------------------|------------------------------------------------|
| `channel`  | `website` (more with connectors)                | its channel is one of them                     |
| `type`     | `unassigned`, `mine`, `unanswered`              | *no operator*; *the caller is one of its        |
|            |                                                 | operators*; *the visitor wrote last and nobody  |
|            |                                                 | answered* (finished dialogs are never waiting)  |
| `operator` | operator ids                                    | one of them is among its operators             |
| `status`   | `new`, `in_progress`, `waiting`, `finished`,    | its status is one of them                      |
|            | `open` (the first three), `all`                 |                                                |
| `q`        | words                                           | every word starts a word of one of its messages |
|            |                                                 | (notes included), or of the client's name; a   |
|            |                                                 | lone number also finds the dialog by number     |
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from widget_server.domain.channels import is_channel
from widget_server.domain.dialog_state import OPEN_STATUSES, DialogStatus
from widget_server.domain.search_terms import dialog_number, search_terms

MAX_VALUES = 50


class ChatType(StrEnum):
    UNASSIGNED = "unassigned"
    MINE = "mine"
    UNANSWERED = "unanswered"


class FilterProblem(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class InboxFilter:
    channels: frozenset[str] = frozenset()
    chat_types: frozenset[ChatType] = frozenset()
    operator_ids: frozenset[int] = frozenset()
    statuses: frozenset[DialogStatus] = OPEN_STATUSES
    terms: tuple[str, ...] = field(default=())
    number: int | None = None  # the search was a lone number: also find the dialog with that number


@dataclass(frozen=True)
class DialogFacts:
    """What the filter looks at in one dialog (the console's live list checks the same facts)."""

    channel: str
    status: DialogStatus
    operator_ids: frozenset[int]
    unanswered: bool


def _values(params: Mapping[str, Sequence[str]], name: str) -> list[str]:
    values = [part.strip() for raw in params.get(name, ()) for part in raw.split(",") if part.strip()]
    if len(values) > MAX_VALUES:
        raise FilterProblem(f"{name}: at most {MAX_VALUES} values")
    return values


def parse_filter(params: Mapping[str, Sequence[str]]) -> InboxFilter:
    channels = _values(params, "channel")
    for channel in channels:
        if not is_channel(channel):
            raise FilterProblem(f"channel: unknown channel {channel!r}")
    try:
        chat_types = frozenset(ChatType(v) for v in _values(params, "type"))
    except ValueError:
        raise FilterProblem("type: one of unassigned, mine, unanswered") from None
    try:
        operator_ids = frozenset(int(v) for v in _values(params, "operator"))
    except ValueError:
        raise FilterProblem("operator: operator ids are integers") from None
    if any(not 0 < v < 2**31 for v in operator_ids):
        raise FilterProblem("operator: operator ids are positive integers")
    statuses = _statuses(_values(params, "status"))
    raw_q = " ".join(params.get("q", ()))
    terms = search_terms(raw_q)
    number = dialog_number(raw_q)
    if raw_q.strip() and not terms and number is None:
        raise FilterProblem("q: search for words of at least 2 letters or digits, or a dialog number")
    return InboxFilter(frozenset(channels), chat_types, operator_ids, statuses, terms, number)


def _statuses(values: list[str]) -> frozenset[DialogStatus]:
    if not values:
        return OPEN_STATUSES
    statuses: set[DialogStatus] = set()
    for value in values:
        if value == "all":
            return frozenset()
        if value == "open":
            statuses |= OPEN_STATUSES
            continue
        try:
            statuses.add(DialogStatus(value))
        except ValueError:
            raise FilterProblem("status: one of new, in_progress, waiting, finished, open, all") from None
    return frozenset(statuses)


def matches(f: InboxFilter, facts: DialogFacts, me: int) -> bool:
    """Whether a dialog passes the filter's facets (the search words are the database's business)."""
    if f.channels and facts.channel not in f.channels:
        return False
    if f.statuses and facts.status not in f.statuses:
        return False
    if f.operator_ids and not (f.operator_ids & facts.operator_ids):
        return False
    if f.chat_types:
        kinds = {
            ChatType.UNASSIGNED: not facts.operator_ids,
            ChatType.MINE: me in facts.operator_ids,
            ChatType.UNANSWERED: facts.unanswered,
        }
        if not any(kinds[t] for t in f.chat_types):
            return False
    return True
