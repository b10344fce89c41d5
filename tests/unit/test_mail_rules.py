"""Retry verdicts, backoff, the link token and what an e-mail shows: plain values, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from widget_server.domain.mail_content import MailMessage, cut_transcript, unread_excerpt
from widget_server.domain.mail_retry import (
    BASE_DELAY,
    GIVE_UP_AFTER,
    MAX_DELAY,
    Phase,
    Verdict,
    classify,
    gives_up,
    retry_delay,
)
from widget_server.domain.resume_link import LINK_TTL, make_resume_token, read_resume_token

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
KEY = b"installation-secret"


@pytest.mark.parametrize(
    ("phase", "code", "verdict"),
    [
        (Phase.CONNECT, None, Verdict.RETRY_QUEUE),  # connection refused, timeout
        (Phase.CONNECT, 535, Verdict.RETRY_QUEUE),  # bad credentials: our configuration, not this e-mail
        (Phase.MESSAGE, None, Verdict.RETRY_QUEUE),  # cut off mid-transaction
        (Phase.MESSAGE, 421, Verdict.RETRY_QUEUE),  # the server is closing
        (Phase.MESSAGE, 451, Verdict.RETRY_MESSAGE),  # greylisting
        (Phase.MESSAGE, 452, Verdict.RETRY_MESSAGE),  # mailbox full
        (Phase.MESSAGE, 550, Verdict.FAILED),
        (Phase.MESSAGE, 554, Verdict.FAILED),
    ],
)
def test_smtp_failures_are_retried_or_failed_by_their_reply(phase, code, verdict):
    assert classify(phase, code) is verdict


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap():
    assert retry_delay(1, 0.0) == BASE_DELAY / 2 and retry_delay(1, 0.999) < BASE_DELAY
    assert retry_delay(2, 0.0) == BASE_DELAY and retry_delay(3, 0.0) == BASE_DELAY * 2
    assert retry_delay(50, 0.999) <= MAX_DELAY and retry_delay(50, 0.0) == MAX_DELAY / 2
    assert not gives_up(None, NOW) and not gives_up(NOW, NOW + GIVE_UP_AFTER - timedelta(seconds=1))
    assert gives_up(NOW, NOW + GIVE_UP_AFTER)


def test_a_link_token_opens_its_dialog_on_its_line_until_it_expires():
    token = make_resume_token(KEY, "shop", 17, NOW)
    grant = read_resume_token(KEY, "shop", token, NOW + timedelta(days=13))
    assert grant is not None and grant.dialog_id == 17
    assert read_resume_token(KEY, "shop", token, NOW + LINK_TTL) is None  # expired
    assert read_resume_token(KEY, "other-line", token, NOW) is None
    assert read_resume_token(b"another key", "shop", token, NOW) is None


def test_a_changed_or_made_up_link_token_opens_nothing():
    dialog, expires, signature = make_resume_token(KEY, "shop", 17, NOW).split(".")
    for forged in (
        f"18.{expires}.{signature}",  # someone else's dialog
        f"{dialog}.{int(expires) + 86400}.{signature}",  # a longer life
        f"{dialog}.{expires}.{'A' * 24}",
        "17",
        "",
        "17.1.<script>",
    ):
        assert read_resume_token(KEY, "shop", forged, NOW) is None


def m(seq: int, author: str, text: str = "x", kind: str = "text") -> MailMessage:
    return MailMessage(seq, kind, author, None, text, NOW + timedelta(seconds=seq))


def test_the_unread_email_shows_the_visitors_question_and_the_answers():
    history = [
        m(1, "bot", "Hi!"),
        m(2, "visitor", "old question"),
        m(3, "operator", "old answer"),
        m(4, "visitor", "Do you ship"),
        m(5, "visitor", "to Spain?"),
        m(6, "system", "Anna joined", "system"),
        m(7, "operator", "Yes"),
        m(8, "operator", "note to self", "note"),
        m(9, "operator", "in 3 days"),
    ]
    assert [x.text for x in unread_excerpt(history, 7, 9)] == ["Do you ship", "to Spain?", "Yes", "in 3 days"]


def test_a_transcript_never_shows_other_kinds_and_cuts_a_long_body():
    history = [m(n, "visitor" if n % 2 else "operator", "y" * 100) for n in range(1, 1001)]
    history.insert(3, m(10_000, "operator", "internal", "note"))
    cut = cut_transcript(history, max_messages=300, max_chars=60_000)
    assert len(cut.in_body) == 300 and cut.left_out == 700 and cut.needs_attachment
    assert all(x.kind == "text" for x in cut.in_body)
    by_chars = cut_transcript(history, max_messages=10_000, max_chars=1_000)
    assert len(by_chars.in_body) == 10 and by_chars.left_out == 990
    assert not cut_transcript(history[:5]).needs_attachment
