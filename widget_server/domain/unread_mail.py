"""When the visitor gets an e-mail about operator messages they have not seen.

The rule (SPEC 2, "New unread messages"):

- Only for a visitor with a known e-mail, and only about operator-written messages (not the bot's greeting,
  not system notices).
- A **batch** is the operator messages after both the visitor's read mark (`visitor_seen_seq`) and the last
  message an e-mail already covered (`notified_seq`). One e-mail per batch: a second operator message joins the
  batch of the first, it does not start a clock of its own.
- The e-mail is due 1 minute after the first message of the batch, unless the visitor sees it before then.
- If the visitor closed the page of the dialog, it is due sooner: `PAGE_CLOSED_GRACE` after the later of the
  closing and the batch's last message (so a visitor moving to another page of the site, which reconnects within
  seconds, gets nothing, and an operator writing three lines to an absent visitor sends one e-mail, not three).
  It is never later than the 1-minute time.
- A visitor who returns (the page opens again) is back on the 1-minute rule; one who sees the messages gets
  nothing for them.

Times are passed in; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

UNSEEN_FOR = timedelta(minutes=1)
PAGE_CLOSED_GRACE = timedelta(seconds=15)


@dataclass(frozen=True, slots=True)
class OperatorMessage:
    seq: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UnreadState:
    has_email: bool
    visitor_seen_seq: int
    notified_seq: int
    # Operator-written messages of the dialog, in seq order; older ones may be left out by the caller.
    operator_messages: Sequence[OperatorMessage]
    page_closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class UnreadMail:
    """One e-mail to send at `due_at` about the operator messages `first_seq`..`last_seq`."""

    due_at: datetime
    first_seq: int
    last_seq: int
    count: int


def unseen_batch(state: UnreadState) -> list[OperatorMessage]:
    mark = max(state.visitor_seen_seq, state.notified_seq)
    return [m for m in state.operator_messages if m.seq > mark]


def unread_mail_due(state: UnreadState) -> UnreadMail | None:
    """The e-mail this state calls for, and when; None when there is nothing to tell."""
    if not state.has_email:
        return None
    batch = unseen_batch(state)
    if not batch:
        return None
    due = batch[0].created_at + UNSEEN_FOR
    if state.page_closed_at is not None:
        closed_due = max(state.page_closed_at, batch[-1].created_at) + PAGE_CLOSED_GRACE
        due = min(due, closed_due)
    return UnreadMail(due_at=due, first_seq=batch[0].seq, last_seq=batch[-1].seq, count=len(batch))


def unread_mail_to_send(state: UnreadState, now: datetime) -> UnreadMail | None:
    """The e-mail to send now, if one is due by `now`."""
    mail = unread_mail_due(state)
    return mail if mail is not None and mail.due_at <= now else None
