"""The timing table of the contact forms, with plain values and with hypothesis."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from widget_server.domain.form_schedule import (
    DialogFacts,
    FormKind,
    KnownContact,
    due_at,
    schedule,
    show_now,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


START = DialogFacts(started_at=T0)
ENDED = replace(START, ended_at=at(60))


def test_intro_form_is_due_5s_after_the_greeting():
    assert due_at(FormKind.INTRO, START) == at(5)


def test_intro_form_is_not_due_once_the_dialog_ended_or_the_visitor_is_known():
    assert due_at(FormKind.INTRO, replace(START, ended_at=at(3))) is None
    assert due_at(FormKind.INTRO, replace(START, known=KnownContact(True, True, True))) is None
    assert due_at(FormKind.INTRO, replace(START, introduced=True)) is None
    assert due_at(FormKind.INTRO, replace(START, shown=frozenset({FormKind.OFFLINE}))) is None
    assert due_at(FormKind.INTRO, replace(START, known=KnownContact(name=True))) == at(5)


def test_transcript_form_is_due_5s_after_the_end_without_rating():
    assert due_at(FormKind.TRANSCRIPT, ENDED) == at(65)
    assert due_at(FormKind.TRANSCRIPT, START) is None


def test_transcript_form_waits_30s_when_the_line_has_rating():
    assert due_at(FormKind.TRANSCRIPT, replace(ENDED, rating_enabled=True)) == at(90)


def test_rating_at_10s_brings_the_transcript_form_to_15s():
    rated = replace(ENDED, rating_enabled=True, rated_at=at(70))
    assert due_at(FormKind.TRANSCRIPT, rated) == at(75)


def test_rating_at_40s_leaves_the_transcript_form_at_30s():
    rated = replace(ENDED, rating_enabled=True, rated_at=at(100))
    assert due_at(FormKind.TRANSCRIPT, rated) == at(90)


def test_a_reopened_dialog_or_a_requested_transcript_cancels_the_transcript_form():
    assert due_at(FormKind.TRANSCRIPT, replace(ENDED, superseded=True)) is None
    assert due_at(FormKind.TRANSCRIPT, replace(ENDED, ended_at=None)) is None
    assert due_at(FormKind.TRANSCRIPT, replace(ENDED, transcript_requested=True)) is None
    assert due_at(FormKind.TRANSCRIPT, replace(ENDED, shown=frozenset({FormKind.TRANSCRIPT}))) is None


def test_rating_form_is_due_at_the_end_only_with_rating_on_and_not_rated():
    assert due_at(FormKind.RATING, replace(ENDED, rating_enabled=True)) == at(60)
    assert due_at(FormKind.RATING, ENDED) is None
    assert due_at(FormKind.RATING, replace(ENDED, rating_enabled=True, rated_at=at(61))) is None


def test_offline_form_is_due_when_nobody_could_answer_unless_an_email_is_known():
    waiting = replace(START, unanswered_at=at(2))
    assert due_at(FormKind.OFFLINE, waiting) == at(2)
    assert due_at(FormKind.OFFLINE, replace(waiting, known=KnownContact(email=True))) is None
    assert due_at(FormKind.OFFLINE, replace(waiting, shown=frozenset({FormKind.OFFLINE}))) is None
    assert due_at(FormKind.OFFLINE, START) is None


def test_show_now_is_asked_again_when_the_job_fires():
    assert show_now(FormKind.INTRO, START, at(5))
    assert not show_now(FormKind.INTRO, START, at(4.9))
    assert not show_now(FormKind.INTRO, replace(START, ended_at=at(3)), at(5))


class Jobs:
    """The durable jobs' semantics in miniature: a pending job can move or be cancelled; a fired one stays."""

    def __init__(self) -> None:
        self.pending: dict[FormKind, datetime] = {}
        self.fired: dict[FormKind, list[datetime]] = {}

    def apply(self, facts: DialogFacts) -> None:
        for kind, due in schedule(facts).items():
            if kind in self.fired:
                continue
            if due is None:
                self.pending.pop(kind, None)
            else:
                self.pending[kind] = due

    def run_until(self, now: datetime, facts: DialogFacts) -> DialogFacts:
        for kind, due in sorted(self.pending.items(), key=lambda kv: kv[1]):
            if due <= now:
                del self.pending[kind]
                if show_now(kind, facts, due):
                    self.fired.setdefault(kind, []).append(due)
                    facts = replace(facts, shown=facts.shown | {kind})
                self.fired.setdefault(kind, [])
        return facts


@given(
    rating_enabled=st.booleans(),
    ended=st.floats(min_value=0, max_value=120),
    rated=st.one_of(st.none(), st.floats(min_value=0, max_value=90)),
    reopened=st.one_of(st.none(), st.floats(min_value=0, max_value=60)),
)
def test_transcript_form_appears_once_at_the_time_the_table_says(rating_enabled, ended, rated, reopened):
    """Replay a dialog second by second through the job semantics and compare with the table."""
    jobs = Jobs()
    facts = DialogFacts(started_at=T0, rating_enabled=rating_enabled, known=KnownContact(True, True, True))
    end_at = at(ended)
    rated_at = end_at + timedelta(seconds=rated) if rated is not None and rating_enabled else None
    reopen_at = end_at + timedelta(seconds=reopened) if reopened is not None else None
    events = sorted(
        [(end_at, "end")] + ([(rated_at, "rate")] if rated_at else []) + ([(reopen_at, "reopen")] if reopen_at else []),
        key=lambda e: e[0],
    )
    for when, what in events:
        facts = jobs.run_until(when - timedelta(microseconds=1), facts)
        if what == "end":
            facts = replace(facts, ended_at=when)
        elif what == "rate":
            facts = replace(facts, rated_at=when)
        else:
            facts = replace(facts, superseded=True)
        jobs.apply(facts)
    facts = jobs.run_until(at(10_000), facts)

    shown = jobs.fired.get(FormKind.TRANSCRIPT, [])
    assert len(shown) <= 1  # never twice
    if not rating_enabled:
        expected = end_at + timedelta(seconds=5)
    elif rated_at is not None and rated_at + timedelta(seconds=5) < end_at + timedelta(seconds=30):
        expected = rated_at + timedelta(seconds=5)
    else:
        expected = end_at + timedelta(seconds=30)
    if reopen_at is not None and reopen_at <= expected:
        # The conversation went on before the form was due (at the very instant too: the change is applied first).
        assert shown == []
    else:
        assert shown == [expected]


@given(closed=st.one_of(st.none(), st.floats(min_value=0, max_value=20)))
def test_intro_form_appears_at_5s_unless_the_dialog_closed_first(closed):
    jobs = Jobs()
    facts = DialogFacts(started_at=T0)
    jobs.apply(facts)
    if closed is not None:
        facts = jobs.run_until(at(closed) - timedelta(microseconds=1), facts)
        facts = replace(facts, ended_at=at(closed))
        jobs.apply(facts)
    jobs.run_until(at(100), facts)
    # Closed at the very moment the form is due (5.0 s): the end is applied before the form fires, so no form.
    expected = [] if closed is not None and closed <= 5 else [at(5)]
    assert jobs.fired.get(FormKind.INTRO, []) == expected
