"""When each contact form of a dialog is due: pure functions of what happened in the dialog and when.

The service layer turns an answer into a durable job (`form:<kind>:<dialog id>`): a time means "schedule or move
the pending job to it", None means "cancel the pending job". A job that has fired is never moved again, which is
what makes every automatic form appear at most once per dialog. When the job fires, the same function is asked
again: a form that became moot in between (filled, dialog reopened, already rated) is not shown.

intro       due 5 s after the dialog started (its greeting).
            Not when: the dialog ended; the visitor gave name, e-mail and phone already, or gave their name and
            answered or dismissed a contact form in an earlier dialog; the offline form appeared in this dialog.
            (Someone who closed the form without even a name is asked again in their next dialog.)
offline     due at once when the visitor writes and no operator of the line can answer.
            Not when: the visitor left an e-mail already (they can be notified); the dialog ended.
rating      due at once when the dialog ends, if the line has rating on.  Not when: rated already.
transcript  due 5 s after the end; with rating on, 30 s after the end, or 5 s after the rating if that is sooner.
            Not when: a transcript was requested in this dialog already (through the icon).
All but intro: not when the dialog was reopened or the visitor went on in a newer dialog.

Every form appears by itself at most once per dialog (`shown`). The visitor can open the transcript form with the
icon at any time; one opened that way and left unsent does not count as its automatic appearance (one still open
does: it is on screen already).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class FormKind(StrEnum):
    INTRO = "intro"
    OFFLINE = "offline"
    TRANSCRIPT = "transcript"
    RATING = "rating"


INTRO_DELAY = timedelta(seconds=5)
TRANSCRIPT_DELAY = timedelta(seconds=5)
# With rating on, the visitor is first asked to rate; the transcript form waits so the two do not pile up.
TRANSCRIPT_DELAY_WITH_RATING = timedelta(seconds=30)
TRANSCRIPT_AFTER_RATING = timedelta(seconds=5)

# Showing the first replaces the second if it is on screen: one contact form at a time.
REPLACES = {FormKind.OFFLINE: FormKind.INTRO}


@dataclass(frozen=True)
class KnownContact:
    name: bool = False
    email: bool = False
    phone: bool = False

    @property
    def complete(self) -> bool:
        return self.name and self.email and self.phone


@dataclass(frozen=True)
class DialogFacts:
    started_at: datetime
    ended_at: datetime | None = None  # None while the dialog is open, and again if it is reopened
    superseded: bool = False  # the visitor started a newer dialog on this line: the conversation went on
    rating_enabled: bool = False
    rated_at: datetime | None = None
    known: KnownContact = KnownContact()
    introduced: bool = False  # known by name, and answered or dismissed a contact form in an earlier dialog
    shown: frozenset[FormKind] = field(default_factory=frozenset)  # forms that appeared in this dialog
    transcript_requested: bool = False
    unanswered_at: datetime | None = None  # a visitor wrote while no operator could answer


def intro_due(f: DialogFacts) -> datetime | None:
    if FormKind.INTRO in f.shown or FormKind.OFFLINE in f.shown:
        return None
    if f.ended_at is not None or f.superseded or f.introduced or f.known.complete:
        return None
    return f.started_at + INTRO_DELAY


def offline_due(f: DialogFacts) -> datetime | None:
    if FormKind.OFFLINE in f.shown or f.unanswered_at is None:
        return None
    if f.ended_at is not None or f.superseded or f.known.email:
        return None
    return f.unanswered_at


def rating_due(f: DialogFacts) -> datetime | None:
    if not f.rating_enabled or FormKind.RATING in f.shown or f.rated_at is not None:
        return None
    if f.ended_at is None or f.superseded:
        return None
    return f.ended_at


def transcript_due(f: DialogFacts) -> datetime | None:
    if FormKind.TRANSCRIPT in f.shown or f.transcript_requested:
        return None
    if f.ended_at is None or f.superseded:
        return None
    if not f.rating_enabled:
        return f.ended_at + TRANSCRIPT_DELAY
    at_the_latest = f.ended_at + TRANSCRIPT_DELAY_WITH_RATING
    if f.rated_at is None:
        return at_the_latest
    # A rating after the 30 s finds the job fired already; the scheduler never moves a fired job.
    return min(at_the_latest, max(f.rated_at, f.ended_at) + TRANSCRIPT_AFTER_RATING)


_DUE = {
    FormKind.INTRO: intro_due,
    FormKind.OFFLINE: offline_due,
    FormKind.RATING: rating_due,
    FormKind.TRANSCRIPT: transcript_due,
}


def due_at(kind: FormKind, facts: DialogFacts) -> datetime | None:
    """When the form should appear by itself; None: it should not (any more)."""
    return _DUE[kind](facts)


def schedule(facts: DialogFacts) -> dict[FormKind, datetime | None]:
    """Every form's due time: what the durable jobs of the dialog must look like after a change."""
    return {kind: due_at(kind, facts) for kind in FormKind}


def show_now(kind: FormKind, facts: DialogFacts, now: datetime) -> bool:
    """Asked when a job fires: is the form still wanted at `now`?"""
    due = due_at(kind, facts)
    return due is not None and due <= now
