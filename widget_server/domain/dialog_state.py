"""The life of a dialog: which status follows which event.

    new ──operator joins / answers──▶ in_progress ◀──visitor writes── waiting
     │                                    │  ▲                          ▲
     │                                    │  └──────── operator ────────┘
     └────────────── close ───────────────┴──────────── close ──────────▶ finished

A finished dialog stays finished: a visitor who writes again starts a new dialog (with a new number), so the
transcript and the CRM timeline of the old one never change after the fact.
"""

from __future__ import annotations

from enum import StrEnum


class DialogStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    FINISHED = "finished"


class DialogEvent(StrEnum):
    OPERATOR_JOINED = "operator_joined"
    OPERATOR_MESSAGE = "operator_message"
    VISITOR_MESSAGE = "visitor_message"
    WAIT_FOR_CLIENT = "wait_for_client"
    CLOSE = "close"


class IllegalTransition(Exception):
    def __init__(self, status: DialogStatus, event: DialogEvent) -> None:
        super().__init__(f"{event.value} is not allowed in a {status.value} dialog")
        self.status = status
        self.event = event


OPEN_STATUSES = frozenset({DialogStatus.NEW, DialogStatus.IN_PROGRESS, DialogStatus.WAITING})

_TRANSITIONS: dict[tuple[DialogStatus, DialogEvent], DialogStatus] = {
    (DialogStatus.NEW, DialogEvent.OPERATOR_JOINED): DialogStatus.IN_PROGRESS,
    (DialogStatus.NEW, DialogEvent.OPERATOR_MESSAGE): DialogStatus.IN_PROGRESS,
    (DialogStatus.NEW, DialogEvent.VISITOR_MESSAGE): DialogStatus.NEW,
    (DialogStatus.NEW, DialogEvent.CLOSE): DialogStatus.FINISHED,
    (DialogStatus.IN_PROGRESS, DialogEvent.OPERATOR_JOINED): DialogStatus.IN_PROGRESS,
    (DialogStatus.IN_PROGRESS, DialogEvent.OPERATOR_MESSAGE): DialogStatus.IN_PROGRESS,
    (DialogStatus.IN_PROGRESS, DialogEvent.VISITOR_MESSAGE): DialogStatus.IN_PROGRESS,
    (DialogStatus.IN_PROGRESS, DialogEvent.WAIT_FOR_CLIENT): DialogStatus.WAITING,
    (DialogStatus.IN_PROGRESS, DialogEvent.CLOSE): DialogStatus.FINISHED,
    (DialogStatus.WAITING, DialogEvent.OPERATOR_JOINED): DialogStatus.WAITING,
    (DialogStatus.WAITING, DialogEvent.OPERATOR_MESSAGE): DialogStatus.WAITING,
    # The client answered: the ball is back with the operator.
    (DialogStatus.WAITING, DialogEvent.VISITOR_MESSAGE): DialogStatus.IN_PROGRESS,
    (DialogStatus.WAITING, DialogEvent.WAIT_FOR_CLIENT): DialogStatus.WAITING,
    (DialogStatus.WAITING, DialogEvent.CLOSE): DialogStatus.FINISHED,
}


def next_status(status: DialogStatus, event: DialogEvent) -> DialogStatus:
    try:
        return _TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransition(status, event) from None


def is_open(status: DialogStatus) -> bool:
    return status in OPEN_STATUSES
