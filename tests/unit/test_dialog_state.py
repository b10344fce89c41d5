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
    manual_event,
    manual_targets,
    next_status,
)


def test_an_operator_joining_a_new_dialog_puts_it_in_progress():
    assert next_status(DialogStatus.NEW, DialogEvent.OPERATOR_JOINED) is DialogStatus.IN_PROGRESS


def test_a_client_answer_takes_a_waiting_dialog_back_to_in_progress():
    assert next_status(DialogStatus.WAITING, DialogEvent.VISITOR_MESSAGE) is DialogStatus.IN_PROGRESS


@pytest.mark.parametrize("event", [e for e in DialogEvent if e is not DialogEvent.REOPEN])
def test_only_reopening_changes_a_finished_dialog(event):
    with pytest.raises(IllegalTransition):
        next_status(DialogStatus.FINISHED, event)
    assert next_status(DialogStatus.FINISHED, DialogEvent.REOPEN) is DialogStatus.IN_PROGRESS


@pytest.mark.parametrize("status", [DialogStatus.NEW, DialogStatus.IN_PROGRESS, DialogStatus.WAITING])
def test_an_open_dialog_cannot_be_reopened(status):
    with pytest.raises(IllegalTransition):
        next_status(status, DialogEvent.REOPEN)


def test_a_new_dialog_cannot_wait_for_the_client_before_anyone_answered():
    with pytest.raises(IllegalTransition):
        next_status(DialogStatus.NEW, DialogEvent.WAIT_FOR_CLIENT)


@pytest.mark.parametrize("status", [DialogStatus.NEW, DialogStatus.WAITING, DialogStatus.IN_PROGRESS])
def test_the_in_progress_button_puts_any_open_dialog_in_progress(status):
    assert next_status(status, manual_event(status, DialogStatus.IN_PROGRESS)) is DialogStatus.IN_PROGRESS


@pytest.mark.parametrize("status", [DialogStatus.IN_PROGRESS, DialogStatus.WAITING])
def test_the_last_operator_leaving_puts_the_dialog_back_in_the_queue(status):
    assert next_status(status, DialogEvent.LAST_OPERATOR_LEFT) is DialogStatus.NEW


def test_the_status_menu_offers_what_the_rules_allow():
    assert manual_targets(DialogStatus.NEW) == [DialogStatus.IN_PROGRESS, DialogStatus.FINISHED]
    assert manual_targets(DialogStatus.IN_PROGRESS) == [DialogStatus.WAITING, DialogStatus.FINISHED]
    assert manual_targets(DialogStatus.WAITING) == [DialogStatus.IN_PROGRESS, DialogStatus.FINISHED]
    assert manual_targets(DialogStatus.FINISHED) == [DialogStatus.IN_PROGRESS]


def test_nobody_sets_new_by_hand():
    for status in DialogStatus:
        with pytest.raises(IllegalTransition):
            manual_event(status, DialogStatus.NEW)


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
            assert (
                (self.status is DialogStatus.FINISHED)
                or (event is DialogEvent.REOPEN)
                or (self.status is DialogStatus.NEW and event is DialogEvent.WAIT_FOR_CLIENT)
            )
            return
        if event in (DialogEvent.OPERATOR_JOINED, DialogEvent.OPERATOR_MESSAGE, DialogEvent.TAKE, DialogEvent.REOPEN):
            self.operator_engaged = True
        if event is DialogEvent.LAST_OPERATOR_LEFT:
            self.operator_engaged = False
        if event is DialogEvent.CLOSE:
            assert after is DialogStatus.FINISHED
        if self.status is DialogStatus.FINISHED:
            assert event is DialogEvent.REOPEN
        self.status = after

    @rule(wanted=st.sampled_from(list(DialogStatus)))
    def choose_in_menu(self, wanted: DialogStatus) -> None:
        try:
            event = manual_event(self.status, wanted)
        except IllegalTransition:
            assert wanted not in manual_targets(self.status)
            return
        after = next_status(self.status, event)
        assert after is wanted
        if wanted is not DialogStatus.FINISHED:
            self.operator_engaged = True
        self.status = after

    @invariant()
    def new_only_until_an_operator_engages(self) -> None:
        if self.operator_engaged and is_open(self.status):
            assert self.status is not DialogStatus.NEW

    @invariant()
    def every_status_is_open_or_finished(self) -> None:
        assert is_open(self.status) or self.status is DialogStatus.FINISHED


TestDialogLifecycle = DialogLifecycle.TestCase
