"""The life of a dialog: which status follows which event.

| status \\ event | joined  | op. msg | visitor msg | take    | wait    | last op. left | close    | reopen  |
|-----------------|---------|---------|-------------|---------|---------|---------------|----------|---------|
| new             | in_pr.  | in_pr.  | new         | in_pr.  | -       | new           | finished | -       |
| in_progress     | in_pr.  | in_pr.  | in_pr.      | in_pr.  | waiting | new           | finished | -       |
| waiting         | waiting | waiting | in_pr.      | in_pr.  | waiting | new           | finished | -       |
| finished        | -       | -       | -           | -       | -       | -             | -        | in_pr.  |

(in_pr. = in_progress; "-" = refused with IllegalTransition.)

"take" is the console's **In progress** button (or choosing that status in the status menu); "wait" is choosing
*waiting for client*. A finished dialog changes only by **reopen**, which an operator does explicitly, and only
for the visitor's latest dialog on its line (the service checks that): a visitor who writes after the end starts
a new dialog with a new number, so the transcript and CRM timeline of a finished dialog change only when a person
decides so. An operator cannot put a dialog back to `new` by hand: leaving it does (when nobody else is on it).
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
    TAKE = "take"
    WAIT_FOR_CLIENT = "wait_for_client"
    LAST_OPERATOR_LEFT = "last_operator_left"
    CLOSE = "close"
    REOPEN = "reopen"


class IllegalTransition(Exception):
    def __init__(self, status: DialogStatus, event: DialogEvent) -> None:
        super().__init__(f"{event.value} is not allowed in a {status.value} dialog")
        self.status = status
        self.event = event


OPEN_STATUSES = frozenset({DialogStatus.NEW, DialogStatus.IN_PROGRESS, DialogStatus.WAITING})

_S, _E = DialogStatus, DialogEvent
_TRANSITIONS: dict[tuple[DialogStatus, DialogEvent], DialogStatus] = {
    (_S.NEW, _E.OPERATOR_JOINED): _S.IN_PROGRESS,
    (_S.NEW, _E.OPERATOR_MESSAGE): _S.IN_PROGRESS,
    (_S.NEW, _E.VISITOR_MESSAGE): _S.NEW,
    (_S.NEW, _E.TAKE): _S.IN_PROGRESS,
    (_S.NEW, _E.LAST_OPERATOR_LEFT): _S.NEW,
    (_S.NEW, _E.CLOSE): _S.FINISHED,
    (_S.IN_PROGRESS, _E.OPERATOR_JOINED): _S.IN_PROGRESS,
    (_S.IN_PROGRESS, _E.OPERATOR_MESSAGE): _S.IN_PROGRESS,
    (_S.IN_PROGRESS, _E.VISITOR_MESSAGE): _S.IN_PROGRESS,
    (_S.IN_PROGRESS, _E.TAKE): _S.IN_PROGRESS,
    (_S.IN_PROGRESS, _E.WAIT_FOR_CLIENT): _S.WAITING,
    (_S.IN_PROGRESS, _E.LAST_OPERATOR_LEFT): _S.NEW,
    (_S.IN_PROGRESS, _E.CLOSE): _S.FINISHED,
    (_S.WAITING, _E.OPERATOR_JOINED): _S.WAITING,
    (_S.WAITING, _E.OPERATOR_MESSAGE): _S.WAITING,
    # The client answered: the ball is back with the operator.
    (_S.WAITING, _E.VISITOR_MESSAGE): _S.IN_PROGRESS,
    (_S.WAITING, _E.TAKE): _S.IN_PROGRESS,
    (_S.WAITING, _E.WAIT_FOR_CLIENT): _S.WAITING,
    # Nobody is left to wait with the client: the dialog goes back to the line's queue.
    (_S.WAITING, _E.LAST_OPERATOR_LEFT): _S.NEW,
    (_S.WAITING, _E.CLOSE): _S.FINISHED,
    (_S.FINISHED, _E.REOPEN): _S.IN_PROGRESS,
}

# What choosing a status in the console's status menu means.
_MANUAL: dict[DialogStatus, DialogEvent] = {
    DialogStatus.IN_PROGRESS: DialogEvent.TAKE,
    DialogStatus.WAITING: DialogEvent.WAIT_FOR_CLIENT,
    DialogStatus.FINISHED: DialogEvent.CLOSE,
}


def next_status(status: DialogStatus, event: DialogEvent) -> DialogStatus:
    try:
        return _TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransition(status, event) from None


def is_open(status: DialogStatus) -> bool:
    return status in OPEN_STATUSES


def manual_event(status: DialogStatus, target: DialogStatus) -> DialogEvent:
    """The event behind an operator choosing `target` in the status menu of a dialog in `status`."""
    if status is DialogStatus.FINISHED and target is DialogStatus.IN_PROGRESS:
        return DialogEvent.REOPEN
    event = _MANUAL.get(target)
    if event is None or (status, event) not in _TRANSITIONS:
        raise IllegalTransition(status, event or DialogEvent.TAKE)
    return event


def manual_targets(status: DialogStatus) -> list[DialogStatus]:
    """The statuses the status menu offers for a dialog in `status` (the current one excluded)."""
    targets = []
    for target in (DialogStatus.IN_PROGRESS, DialogStatus.WAITING, DialogStatus.FINISHED):
        if target is status:
            continue
        try:
            manual_event(status, target)
        except IllegalTransition:
            continue
        targets.append(target)
    return targets
