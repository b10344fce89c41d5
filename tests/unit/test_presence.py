"""Who can answer a line: chosen presence, kept alive by a heartbeat, and the chat limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from widget_server.domain.presence import (
    HEARTBEAT_TIMEOUT,
    OperatorLoad,
    Presence,
    effective_presence,
    nobody_can_answer,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_a_console_that_stopped_heartbeating_makes_its_operator_offline():
    fresh = NOW - HEARTBEAT_TIMEOUT
    stale = NOW - HEARTBEAT_TIMEOUT - timedelta(seconds=1)
    assert effective_presence(Presence.ONLINE, fresh, NOW) is Presence.ONLINE
    assert effective_presence(Presence.ONLINE, stale, NOW) is Presence.OFFLINE
    assert effective_presence(Presence.AWAY, fresh, NOW) is Presence.AWAY
    assert effective_presence(Presence.ONLINE, None, NOW) is Presence.OFFLINE


def test_nobody_can_answer_when_all_are_offline_away_or_at_their_limit():
    online_free = OperatorLoad(Presence.ONLINE, NOW, active_chats=2, chat_limit=3)
    full = OperatorLoad(Presence.ONLINE, NOW, active_chats=3, chat_limit=3)
    away = OperatorLoad(Presence.AWAY, NOW, active_chats=0, chat_limit=3)
    gone = OperatorLoad(Presence.ONLINE, None, active_chats=0, chat_limit=3)
    assert nobody_can_answer([], NOW)
    assert nobody_can_answer([full, away, gone], NOW)
    assert not nobody_can_answer([full, online_free], NOW)
