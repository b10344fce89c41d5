"""Signed file links, roles, visibility of entries, the browser summary, agenda times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from widget_server.domain import signed_links
from widget_server.domain.agenda import event_time_problem, reminder_time_problem
from widget_server.domain.permissions import Action, allowed
from widget_server.domain.user_agent import describe_user_agent
from widget_server.domain.visibility import Audience, Kind, visible_to

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
SECRET = b"secret"


def test_a_signed_link_works_until_it_expires_and_only_for_its_file():
    expires = int((NOW + timedelta(hours=1)).timestamp())
    signature = signed_links.sign(SECRET, "file-a", expires)
    assert signed_links.verify(SECRET, "file-a", expires, signature, NOW)
    assert not signed_links.verify(SECRET, "file-b", expires, signature, NOW)
    assert not signed_links.verify(SECRET, "file-a", expires + 3600, signature, NOW)
    assert not signed_links.verify(b"other", "file-a", expires, signature, NOW)
    assert not signed_links.verify(SECRET, "file-a", expires, signature, NOW + timedelta(hours=2))


@pytest.mark.parametrize("action", list(Action))
def test_admins_may_do_everything(action):
    assert allowed("admin", action)


def test_operators_work_dialogs_but_do_not_delete_or_manage():
    assert allowed("operator", Action.WORK_DIALOG)
    for action in (Action.DELETE_DIALOG, Action.MANAGE_OPERATORS, Action.MANAGE_LINES, Action.MANAGE_CANNED):
        assert not allowed("operator", action)
    assert not allowed("visitor", Action.WORK_DIALOG)


def test_visitors_never_see_notes_or_internal_notices():
    assert [k for k in Kind if visible_to(Audience.VISITOR, k)] == [Kind.TEXT, Kind.FILE, Kind.SYSTEM]
    assert all(visible_to(Audience.STAFF, k) for k in Kind)


@pytest.mark.parametrize(
    ("ua", "summary"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36",
            "Chrome 131 on Windows",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
            "Edge 131 on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari 17 on iOS",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133 on Linux"),
        (None, None),
    ],
)
def test_a_user_agent_in_a_few_words(ua, summary):
    assert describe_user_agent(ua) == summary


def test_reminders_are_for_the_future_within_reason():
    assert reminder_time_problem(NOW + timedelta(minutes=10), NOW) is None
    assert reminder_time_problem(NOW - timedelta(minutes=1), NOW) is None  # filled in a minute ago
    assert reminder_time_problem(NOW - timedelta(hours=1), NOW)
    assert reminder_time_problem(NOW + timedelta(days=5 * 365), NOW)


def test_an_event_does_not_end_before_it_starts():
    assert event_time_problem(NOW, NOW - timedelta(minutes=1), NOW)
    assert event_time_problem(NOW, NOW + timedelta(hours=1), NOW) is None
