"""The append decision (domain/message_append.py): its table, row by row, and the rules every message keeps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from widget_server.domain.message_append import (
    Append,
    DialogFacts,
    Earlier,
    Owed,
    Refusal,
    Refused,
    Request,
    Resent,
    StartDialog,
    Writer,
    advance,
    decide,
    landing_dialog,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
ASSIGNED = DialogFacts(
    id=7, line_id="shop", visitor_id=3, status="in_progress", operator_id=1, last_seq=4, waiting_since=None
)


def visitor(kind: str = "text", msg: str | None = "v-1") -> Request:
    return Request(Writer.VISITOR, NOW, kind, msg)


def operator(kind: str = "text", msg: str | None = "o-1", lines: frozenset[str] = frozenset({"shop"})) -> Request:
    return Request(Writer.OPERATOR, NOW, kind, msg, lines, operator_id=1)


def test_a_message_in_a_steady_dialog_takes_the_next_seq_and_owes_nothing():
    decision = decide(visitor(), ASSIGNED, None)
    assert isinstance(decision, Append)
    assert decision.seq == 5 and decision.status == "in_progress" and decision.owes == frozenset()


@pytest.mark.parametrize("facts", [None, replace(ASSIGNED, line_id="other")])
def test_an_operator_gets_the_same_refusal_for_a_missing_dialog_and_one_off_their_lines(facts):
    assert decide(operator(), facts, None) == Refused(Refusal.FORBIDDEN)


def test_a_resend_by_the_same_writer_is_acknowledged_with_the_stored_seq():
    assert decide(visitor(), ASSIGNED, Earlier(3, "visitor", "text", None)) == Resent(3)
    assert decide(operator(), ASSIGNED, Earlier(2, "operator", "text", 1)) == Resent(2)


@pytest.mark.parametrize(
    "earlier",
    [
        Earlier(3, "operator", "text", 1),  # the visitor reuses an operator's id
        Earlier(3, "visitor", "note", None),  # another kind
    ],
)
def test_an_id_used_by_someone_else_is_refused(earlier):
    assert decide(visitor(), ASSIGNED, earlier) == Refused(Refusal.ID_TAKEN)


def test_another_operators_id_is_not_a_resend():
    assert decide(operator(), ASSIGNED, Earlier(2, "operator", "text", 99)) == Refused(Refusal.ID_TAKEN)


@pytest.mark.parametrize("facts", [None, replace(ASSIGNED, status="finished")])
def test_a_visitor_without_an_open_dialog_starts_one(facts):
    assert decide(visitor(), facts, None) == StartDialog()


def test_an_operator_cannot_write_in_a_finished_dialog_but_can_note():
    finished = replace(ASSIGNED, status="finished")
    assert decide(operator(), finished, None) == Refused(Refusal.DIALOG_CLOSED)
    note = decide(operator(kind="note"), finished, None)
    assert isinstance(note, Append) and note.owes == frozenset() and note.status == "finished"


@pytest.mark.parametrize(
    ("request_", "facts", "owed"),
    [
        (visitor(), replace(ASSIGNED, status="waiting"), {Owed.STATUS}),  # the client answers: in progress again
        (operator(), replace(ASSIGNED, status="new", operator_id=None), {Owed.STATUS, Owed.ASSIGNMENT}),
        (operator(), replace(ASSIGNED, operator_id=None), {Owed.ASSIGNMENT}),
        (visitor(), replace(ASSIGNED, operator_id=None), {Owed.OFFLINE_FORM}),
        (visitor(), replace(ASSIGNED, operator_id=None, offline_form_shown=True), set()),
        (operator(), replace(ASSIGNED, visitor_has_email=True), {Owed.UNREAD_MAIL}),
        (operator(kind="note"), replace(ASSIGNED, operator_id=None, visitor_has_email=True), set()),
        (replace(visitor(kind="file"), with_file=True), ASSIGNED, {Owed.ATTACHMENT}),
    ],
)
def test_what_a_message_owes(request_, facts, owed):
    decision = decide(request_, facts, None)
    assert isinstance(decision, Append) and decision.owes == owed


def test_unanswered_starts_with_the_visitors_first_message_and_ends_with_an_answer():
    earlier = NOW - timedelta(minutes=5)
    assert advance(4, None, "visitor", "text", NOW).waiting_since == NOW
    assert advance(4, earlier, "visitor", "text", NOW).waiting_since == earlier  # still waiting since the first
    assert advance(4, earlier, "operator", "text", NOW).waiting_since is None
    for writer, kind in [("operator", "note"), ("system", "system"), ("bot", "text"), ("operator", "internal")]:
        assert advance(4, earlier, writer, kind, NOW).waiting_since == earlier


def test_a_visitors_message_lands_in_their_newest_open_dialog():
    old_open = replace(ASSIGNED, id=2)
    newest_finished = replace(ASSIGNED, id=9, status="finished")
    assert landing_dialog([old_open, ASSIGNED, newest_finished]) == ASSIGNED
    assert landing_dialog([newest_finished]) is None
    assert landing_dialog([]) is None


statuses = st.sampled_from(["new", "in_progress", "waiting", "finished"])
facts = st.builds(
    DialogFacts,
    id=st.integers(1, 100),
    line_id=st.sampled_from(["shop", "other"]),
    visitor_id=st.integers(1, 5),
    status=statuses,
    operator_id=st.none() | st.integers(1, 3),
    last_seq=st.integers(0, 10_000),
    waiting_since=st.none() | st.just(NOW - timedelta(hours=1)),
    visitor_has_email=st.booleans(),
    offline_form_shown=st.booleans(),
)
requests = st.builds(
    Request,
    writer=st.sampled_from(list(Writer)),
    at=st.just(NOW),
    kind=st.sampled_from(["text", "file", "system", "note", "internal"]),
    client_msg_id=st.none() | st.just("m-1"),
    line_ids=st.none() | st.just(frozenset({"shop"})),
    operator_id=st.none() | st.integers(1, 3),
)


@given(requests, st.none() | facts)
def test_an_append_always_takes_the_next_seq_and_a_message_that_owes_nothing_changes_no_status(request, dialog):
    decision = decide(request, dialog, None)
    if isinstance(decision, Append):
        assert dialog is not None
        assert decision.seq == dialog.last_seq + 1 and decision.move.updated_at == request.at
        if Owed.STATUS not in decision.owes:
            assert decision.status == dialog.status
    if dialog is None:
        assert isinstance(decision, Refused | StartDialog)
