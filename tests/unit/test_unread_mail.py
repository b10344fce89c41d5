"""The unread-messages rule (domain/unread_mail.py) with plain values: times are given, nothing waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from widget_server.domain.unread_mail import (
    PAGE_CLOSED_GRACE,
    OperatorMessage,
    UnreadState,
    unread_mail_due,
    unread_mail_to_send,
)

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def state(*messages: tuple[int, float], seen: int = 0, notified: int = 0, closed: float | None = None, email=True):
    return UnreadState(
        has_email=email,
        visitor_seen_seq=seen,
        notified_seq=notified,
        operator_messages=[OperatorMessage(seq, at(s)) for seq, s in messages],
        page_closed_at=None if closed is None else at(closed),
    )


def test_an_answer_not_seen_for_a_minute_is_due_at_60s_not_59s():
    answer = state((3, 0))
    assert unread_mail_to_send(answer, at(59)) is None
    mail = unread_mail_to_send(answer, at(61))
    assert mail is not None and (mail.first_seq, mail.last_seq, mail.count) == (3, 3, 1)
    assert mail.due_at == at(60)


def test_an_answer_seen_at_59s_calls_for_no_email():
    assert unread_mail_due(state((3, 0), seen=3)) is None


def test_two_answers_make_one_batch_timed_from_the_first():
    mail = unread_mail_due(state((3, 0), (4, 30)))
    assert mail is not None and (mail.first_seq, mail.last_seq, mail.count, mail.due_at) == (3, 4, 2, at(60))


def test_seeing_part_of_a_batch_leaves_the_rest_with_its_own_minute():
    mail = unread_mail_due(state((3, 0), (4, 30), seen=3))
    assert mail is not None and (mail.first_seq, mail.due_at) == (4, at(90))


def test_a_closed_page_sends_after_the_grace_unless_the_minute_comes_first():
    assert unread_mail_due(state((3, 0), closed=10)).due_at == at(10) + PAGE_CLOSED_GRACE  # type: ignore[union-attr]
    # The visitor left before the operator wrote: the grace counts from the (last) answer.
    assert unread_mail_due(state((3, 100), closed=10)).due_at == at(100) + PAGE_CLOSED_GRACE  # type: ignore[union-attr]
    # Closing at 55 s does not push the e-mail past the minute.
    assert unread_mail_due(state((3, 0), closed=55)).due_at == at(60)  # type: ignore[union-attr]


def test_no_email_without_an_address_and_none_twice_for_the_same_answers():
    assert unread_mail_due(state((3, 0), email=False)) is None
    assert unread_mail_due(state((3, 0), notified=3)) is None
    mail = unread_mail_due(state((3, 0), (5, 200), notified=3))
    assert mail is not None and (mail.first_seq, mail.due_at) == (5, at(260))


@given(
    st.lists(st.floats(min_value=0, max_value=3600), min_size=1, max_size=8),
    st.integers(min_value=0, max_value=10),
    st.one_of(st.none(), st.floats(min_value=0, max_value=3600)),
)
def test_the_email_is_never_later_than_a_minute_after_the_first_unseen_answer(times, seen, closed):
    messages = [(n + 1, t) for n, t in enumerate(sorted(times))]
    mail = unread_mail_due(state(*messages, seen=seen, closed=closed))
    unseen = [(seq, t) for seq, t in messages if seq > seen]
    if not unseen:
        assert mail is None
        return
    assert mail is not None
    assert mail.due_at <= at(unseen[0][1]) + timedelta(minutes=1)
    assert mail.due_at >= at(unseen[0][1])  # never about an answer before it was written
    assert mail.count == len(unseen)
