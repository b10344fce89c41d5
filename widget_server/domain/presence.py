"""Who can answer a line: an operator's chosen presence, kept honest by a heartbeat, and their chat limit.

The chosen status is what the operator picked in the console; it only counts while a console of theirs is
connected, which refreshes `last_seen_at` in the database every few seconds (from any process). A console that
went away without saying so (a crash, a lost network) makes the operator offline after `HEARTBEAT_TIMEOUT`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


HEARTBEAT_EVERY = timedelta(seconds=20)
HEARTBEAT_TIMEOUT = timedelta(seconds=60)
DEFAULT_CHAT_LIMIT = 5
MAX_CHAT_LIMIT = 100


@dataclass(frozen=True)
class OperatorLoad:
    chosen: Presence
    last_seen_at: datetime | None  # the freshest heartbeat of any of their consoles
    active_chats: int  # open dialogs assigned to them
    chat_limit: int


def effective_presence(chosen: Presence, last_seen_at: datetime | None, now: datetime) -> Presence:
    if last_seen_at is None or now - last_seen_at > HEARTBEAT_TIMEOUT:
        return Presence.OFFLINE
    return chosen


def can_take_a_chat(operator: OperatorLoad, now: datetime) -> bool:
    online = effective_presence(operator.chosen, operator.last_seen_at, now) is Presence.ONLINE
    return online and operator.active_chats < operator.chat_limit


def nobody_can_answer(operators: Iterable[OperatorLoad], now: datetime) -> bool:
    """All offline or away, or all at their limit (also true for a line without operators)."""
    return not any(can_take_a_chat(op, now) for op in operators)
