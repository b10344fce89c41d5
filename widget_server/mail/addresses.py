"""E-mail addresses: the visitor's, checked and normalised once; the sender's, from MAIL_FROM."""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import parseaddr

from email_validator import EmailNotValidError, validate_email

from widget_server.errors import InvalidInput


def normalize_email(raw: str) -> str:
    """`Anna@Example.COM ` -> `Anna@example.com`; anything that cannot be a deliverable address is refused.

    Non-ASCII local parts need SMTPUTF8, which many servers lack, so they are refused rather than bounced later;
    an internationalised domain is kept in its ASCII (punycode) form.
    """
    value = raw.strip()
    if not value or len(value) > 254 or any(ch in value for ch in "\r\n\0"):
        raise InvalidInput("email: not a valid e-mail address", "invalid_email")
    try:
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"email: {exc}", "invalid_email") from None
    return checked.ascii_email or checked.normalized


def sender_address(mail_from: str) -> str:
    """The bare address of MAIL_FROM (`Openline <no-reply@shop.example>` -> `no-reply@shop.example`)."""
    _, address = parseaddr(mail_from)
    if not address or "@" not in address:
        raise ValueError("MAIL_FROM must hold an e-mail address")
    Address(addr_spec=address)  # raises on anything a header could not carry
    return address


def address_domain(address: str) -> str:
    return address.rsplit("@", 1)[1].lower()
