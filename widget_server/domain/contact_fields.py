"""What a visitor may type into a contact form, and its normal form.

E-mails are checked for syntax and normalised by email-validator without any network look-up; phones are parsed
by phonenumbers with the line's default country, else the country of the browser's language, and kept in E.164.
A name is one line of at most `NAME_MAX` characters. CR, LF and every other control character are refused in
all three: these values travel into e-mail headers and CRM records, where a line break is an injection.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from babel.core import get_global
from email_validator import EmailNotValidError, validate_email

NAME_MAX = 100
EMAIL_MAX = 254
PHONE_INPUT_MAX = 32
COMMENT_MAX = 1000


class Problem(StrEnum):
    REQUIRED = "required"
    TOO_LONG = "too_long"
    CONTROL_CHARS = "control_chars"
    INVALID_EMAIL = "invalid_email"
    INVALID_PHONE = "invalid_phone"
    PHONE_NEEDS_COUNTRY = "phone_needs_country"
    EMAIL_OR_PHONE = "email_or_phone"
    INVALID_CHOICE = "invalid_choice"


@dataclass(frozen=True)
class Bad:
    problem: Problem
    limit: int = 0


# Bidirectional overrides let a name display as something else than it is; other format characters (the
# zero-width joiners of Persian or Hindi names) are ordinary text.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _has_controls(text: str, allowed: frozenset[str] = frozenset()) -> bool:
    return any(
        (unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI_CONTROLS) and ch not in allowed for ch in text
    )


def clean_name(raw: str) -> str | Bad | None:
    """None for an empty name (the caller decides whether it is required)."""
    if _has_controls(raw):
        return Bad(Problem.CONTROL_CHARS)
    name = " ".join(raw.split())
    if not name:
        return None
    if len(name) > NAME_MAX:
        return Bad(Problem.TOO_LONG, NAME_MAX)
    return name


def clean_email(raw: str) -> str | Bad | None:
    if _has_controls(raw):
        return Bad(Problem.CONTROL_CHARS)
    text = raw.strip()
    if not text:
        return None
    if len(text) > EMAIL_MAX:
        return Bad(Problem.TOO_LONG, EMAIL_MAX)
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return Bad(Problem.INVALID_EMAIL)
    return str(checked.normalized)


def email_key(email: str) -> str:
    """What two e-mails are compared by: the whole normalised address, case folded.

    The local part is case-sensitive in theory and never in practice; a CRM that told Ann@x and ann@x apart would
    make duplicates, not precision.
    """
    return email.casefold()


def region_for(default_country: str | None, language: str | None) -> str | None:
    """The region a phone without +country is read in: the line's country, else the browser language's."""
    if default_country and default_country.upper() in phonenumbers.SUPPORTED_REGIONS:
        return default_country.upper()
    if not language:
        return None
    parts = language.replace("_", "-").split("-")
    for part in parts[1:]:
        if len(part) == 2 and part.upper() in phonenumbers.SUPPORTED_REGIONS:
            return part.upper()
    likely = get_global("likely_subtags").get(parts[0].lower())
    if isinstance(likely, str):
        region = likely.split("_")[-1]
        if region in phonenumbers.SUPPORTED_REGIONS:
            return region
    return None


def clean_phone(raw: str, region: str | None) -> str | Bad | None:
    if _has_controls(raw):
        return Bad(Problem.CONTROL_CHARS)
    text = raw.strip()
    if not text:
        return None
    if len(text) > PHONE_INPUT_MAX:
        return Bad(Problem.TOO_LONG, PHONE_INPUT_MAX)
    if not text.startswith("+") and text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+") and region is None:
        return Bad(Problem.PHONE_NEEDS_COUNTRY)
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return Bad(Problem.INVALID_PHONE)
    if not phonenumbers.is_valid_number(number):
        return Bad(Problem.INVALID_PHONE)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def clean_comment(raw: str) -> str | Bad | None:
    """A rating comment: free text; newlines and tabs are how people write, other controls are refused."""
    if _has_controls(raw, frozenset({"\n", "\t", "\r"})):
        return Bad(Problem.CONTROL_CHARS)
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return None
    if len(text) > COMMENT_MAX:
        return Bad(Problem.TOO_LONG, COMMENT_MAX)
    return text
