"""The dialog lifecycle, as a state machine explored by hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from widget_server.domain.dialog_state import (
    DialogEvent,
    DialogStatus,
    IllegalTransition,
    is_open,
    next_status,
)


def test_an_operator_joining_a_new_dialog_puts_it_in_progress():
    assert next_status(DialogStatus.NEW, DialogEvent.OPERATOR_JOINED) is DialogStatus.IN_PROGRESS


def test_a_client_answer_takes_a_waiting_dialog_back_to_in_progress():
    assert next_status(DialogStatus.WAITING, DialogEvent.VISITOR_MESSAGE) is DialogStatus.IN_PROGRESS


@pytest.mark.parametrize("event", list(DialogEvent))
def test_nothing_happens_to_a_finished_dialog(event):
    with pytest.raises(IllegalTransition):
        next_status(DialogStatus.FINISHED, event)


def test_a_new_dialog_cannot_wait_for_the_client_before_anyone_answered():
    with pytest.raises(IllegalTransition):
        next_status(DialogStatus.NEW, DialogEvent.WAIT_FOR_CLIENT)


class DialogLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.status = DialogStatus.NEW
        self.operator_engaged = False

    @rule(event=st.sampled_from(list(DialogEvent)))
    def apply(self, event: DialogEvent) -> None:
        try:
            after = next_status(self.status, event)
        except IllegalTransition:
            assert self.status is DialogStatus.FINISHED or (
                self.status is DialogStatus.NEW and event is DialogEvent.WAIT_FOR_CLIENT
            )
            return
        if event in (DialogEvent.OPERATOR_JOINED, DialogEvent.OPERATOR_MESSAGE):
            self.operator_engaged = True
        if event is DialogEvent.CLOSE:
            assert after is DialogStatus.FINISHED
        self.status = after

    @invariant()
    def new_only_until_an_operator_engages(self) -> None:
        if self.operator_engaged and is_open(self.status):
            assert self.status is not DialogStatus.NEW

    @invariant()
    def only_close_finishes(self) -> None:
        assert is_open(self.status) or self.status is DialogStatus.FINISHED


TestDialogLifecycle = DialogLifecycle.TestCase
