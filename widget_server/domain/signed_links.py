"""Links to files that work without a login, for the visitor who was shown them, until they expire.

A link names a file by a random id (never a counter) and carries an HMAC of the id and the expiry, made with the
installation's secret. Holding the link is the permission: the server hands links only to the visitor of the
file's dialog and to operators of its line, so nobody else can fetch a file even knowing its id.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime


def _mac(secret: bytes, file_id: str, expires: int) -> str:
    return hmac.new(secret, f"file:{file_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def sign(secret: bytes, file_id: str, expires: int) -> str:
    return _mac(secret, file_id, expires)


def verify(secret: bytes, file_id: str, expires: int, signature: str, now: datetime) -> bool:
    if expires < int(now.timestamp()):
        return False
    return hmac.compare_digest(_mac(secret, file_id, expires), signature)
