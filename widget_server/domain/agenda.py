"""Rules for the operator's agenda: tasks, calendar events and reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

MAX_AHEAD = timedelta(days=3 * 366)
# A reminder set for "now" from a form that took a minute to fill is still meant: it fires at once.
REMINDER_GRACE = timedelta(minutes=5)


def reminder_time_problem(remind_at: datetime, now: datetime) -> str | None:
    if remind_at < now - REMINDER_GRACE:
        return "remind_at: the time has passed"
    if remind_at > now + MAX_AHEAD:
        return "remind_at: at most three years ahead"
    return None


def event_time_problem(starts_at: datetime, ends_at: datetime | None, now: datetime) -> str | None:
    if ends_at is not None and ends_at < starts_at:
        return "ends_at: must not be before starts_at"
    if starts_at > now + MAX_AHEAD:
        return "starts_at: at most three years ahead"
    return None
