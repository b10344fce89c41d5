"""Validation and normalisation of what visitors type into the contact forms."""

from __future__ import annotations

import pytest

from widget_server.domain.contact_fields import (
    NAME_MAX,
    Bad,
    Problem,
    clean_comment,
    clean_email,
    clean_name,
    clean_phone,
    region_for,
)


def test_emails_are_normalised_without_network():
    assert clean_email("  Ann.Smith@EXAMPLE.com ") == "Ann.Smith@example.com"
    assert clean_email("") is None
    assert clean_email("ann@") == Bad(Problem.INVALID_EMAIL)
    assert clean_email("ann@example.com\r\nBcc: x@evil.test") == Bad(Problem.CONTROL_CHARS)


def test_phones_are_stored_in_e164_with_the_region_of_the_line_or_the_browser():
    assert clean_phone("600 123 456", region_for("ES", "en-US")) == "+34600123456"
    assert clean_phone("8 912 345-67-89", region_for(None, "ru")) == "+79123456789"
    assert clean_phone("(202) 555-0143", region_for(None, "en-US")) == "+12025550143"
    assert clean_phone("+44 20 7946 0958", None) == "+442079460958"
    assert clean_phone("0044 20 7946 0958", None) == "+442079460958"
    assert clean_phone("600 123 456", None) == Bad(Problem.PHONE_NEEDS_COUNTRY)
    assert clean_phone("12", "ES") == Bad(Problem.INVALID_PHONE)
    assert clean_phone("600\n123", "ES") == Bad(Problem.CONTROL_CHARS)


def test_region_prefers_the_line_country_then_the_browser_language():
    assert region_for("de", "ru-RU") == "DE"
    assert region_for(None, "es-MX") == "MX"
    assert region_for(None, "uk") == "UA"
    assert region_for("XX", None) is None


@pytest.mark.parametrize("bad", ["Ann\nSmith", "Ann\rSmith", "Ann\x00", "Ann\u202eSmith", "Ann\u2028"])
def test_names_with_line_breaks_or_control_characters_are_refused(bad):
    assert clean_name(bad) == Bad(Problem.CONTROL_CHARS)


def test_names_are_one_trimmed_line_within_the_limit():
    assert clean_name("  Ann   Smith ") == "Ann Smith"
    assert clean_name("   ") is None
    assert clean_name("x" * (NAME_MAX + 1)) == Bad(Problem.TOO_LONG, NAME_MAX)
    assert clean_name("Ana María O’Neil-Šťastná") == "Ana María O’Neil-Šťastná"


def test_a_rating_comment_may_have_lines_but_no_other_controls():
    assert clean_comment("Quick\r\nand kind") == "Quick\nand kind"
    assert clean_comment("bad\x07") == Bad(Problem.CONTROL_CHARS)
