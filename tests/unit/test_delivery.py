"""Per-connection delivery decisions: send, drop a repeat, or fill a gap first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from widget_server.domain.delivery import DeliveryTracker, Verdict


def test_a_repeat_is_dropped_and_the_next_one_sent():
    tracker = DeliveryTracker()
    tracker.start(7, 3)
    assert tracker.judge(7, 3) is Verdict.DROP
    assert tracker.judge(7, 4) is Verdict.SEND


def test_a_message_ahead_of_a_missing_one_asks_for_the_gap():
    tracker = DeliveryTracker()
    tracker.start(7, 3)
    assert tracker.judge(7, 6) is Verdict.FILL_GAP


def test_an_unknown_dialog_is_sent_as_is():
    assert DeliveryTracker().judge(1, 99) is Verdict.SEND


@given(st.lists(st.integers(min_value=1, max_value=30), max_size=120))
def test_whatever_order_notifications_arrive_in_the_client_gets_each_seq_once_in_order(arrivals):
    """Simulates the connection: a gap is filled from the 'database' (every seq up to the arrival exists)."""
    tracker = DeliveryTracker()
    tracker.start(1, 0)
    delivered: list[int] = []
    for seq in arrivals:
        verdict = tracker.judge(1, seq)
        if verdict is Verdict.DROP:
            continue
        if verdict is Verdict.FILL_GAP:
            delivered.extend(range(tracker.last(1) + 1, seq))
        delivered.append(seq)
        tracker.mark(1, seq)
    assert delivered == list(range(1, len(delivered) + 1))
    assert delivered[-1:] == ([max(arrivals)] if arrivals else [])
