"""The signed, expiring token in an e-mail's link back to a conversation.

`<dialog id>.<expiry, unix seconds>.<signature>`: the signature is an HMAC-SHA256 (truncated to 144 bits) of
the line, the dialog and the expiry under the installation's secret key, so a token names one dialog of one line
and cannot be moved to another, extended, or made up. Only digits, `.`, `-` and `_`: it survives URLs and mail
clients unescaped. Whoever holds an unexpired link can continue that conversation, the way the e-mail's reader is
meant to; that is why it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

LINK_TTL = timedelta(days=14)
_SIG_BYTES = 18
_FORMAT = re.compile(r"^(\d{1,18})\.(\d{1,12})\.([A-Za-z0-9_-]{24})$")


@dataclass(frozen=True, slots=True)
class ResumeGrant:
    dialog_id: int
    expires_at: datetime


def _signature(key: bytes, line_id: str, dialog_id: int, expires: int) -> str:
    mac = hmac.new(key, f"openline-resume|{line_id}|{dialog_id}|{expires}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:_SIG_BYTES]).decode().rstrip("=")


def make_resume_token(key: bytes, line_id: str, dialog_id: int, now: datetime, ttl: timedelta = LINK_TTL) -> str:
    expires = int((now + ttl).timestamp())
    return f"{dialog_id}.{expires}.{_signature(key, line_id, dialog_id, expires)}"


def read_resume_token(key: bytes, line_id: str, token: str, now: datetime) -> ResumeGrant | None:
    """The dialog the token opens, or None when it is malformed, forged, for another line, or expired."""
    match = _FORMAT.match(token)
    if match is None:
        return None
    dialog_id, expires = int(match.group(1)), int(match.group(2))
    if not hmac.compare_digest(match.group(3), _signature(key, line_id, dialog_id, expires)):
        return None
    expires_at = datetime.fromtimestamp(expires, UTC)
    if expires_at <= now:
        return None
    return ResumeGrant(dialog_id=dialog_id, expires_at=expires_at)
