"""Message text rules and the frame-rate bucket."""

from __future__ import annotations

import sys
import unicodedata

from widget_server.domain.rate_limit import KeyedBuckets, TokenBucket
from widget_server.domain.text import CONTROL_CHARACTERS, TextProblem, clean_message_text, single_line


def test_text_is_trimmed_and_newlines_kept():
    assert clean_message_text("  two\r\nlines \t ", 100) == "two\nlines"


def test_control_characters_are_refused():
    result = clean_message_text("hi\x1b[31m", 100)
    assert isinstance(result, TextProblem) and result.code == "invalid"


def test_every_control_character_but_newline_and_tab_is_refused_and_nothing_else():
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        control = unicodedata.category(ch) == "Cc"
        assert bool(CONTROL_CHARACTERS.fullmatch(ch)) == control, hex(code)
        if 0xD800 <= code <= 0xDFFF:
            continue  # a lone surrogate never reaches us: frames are decoded as UTF-8
        refused = isinstance(clean_message_text(f"a{ch}b", 10), TextProblem)
        assert refused == (control and ch not in "\t\n\r"), hex(code)


def test_over_long_text_is_refused_with_its_own_code():
    result = clean_message_text("x" * 11, 10)
    assert isinstance(result, TextProblem) and result.code == "too_long"


def test_page_titles_become_one_clean_line():
    assert single_line("Pricing\r\nInjected: header\x00", 300) == "Pricing Injected: header"


def test_bucket_allows_a_burst_then_the_steady_rate():
    bucket = TokenBucket.full(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.5) is True  # half a second at 2/s buys one frame
    assert bucket.take(0.5) is False
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]  # refills to the burst, no more


def test_keyed_buckets_limit_each_key_alone_and_forget_refilled_ones():
    limits = KeyedBuckets(per_minute=2, max_keys=3)
    assert limits.take("a", 0.0) and limits.take("a", 0.0)
    assert not limits.take("a", 1.0)
    assert limits.retry_after("a") == 29  # a token every 30 s; 1 s of it has passed
    assert limits.take("b", 1.0)  # another key has its own bucket
    assert limits.take("a", 31.0)
    limits.take("c", 100.0)
    limits.take("d", 100.0)  # the table is full: buckets idle for a minute are dropped
    assert set(limits.buckets) == {"c", "d"}
