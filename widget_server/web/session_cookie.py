"""The operator's session cookie and how a request proves who it is."""

from __future__ import annotations

from starlette.requests import HTTPConnection

SESSION_COOKIE = "openline_session"


def request_token(conn: HTTPConnection) -> str | None:
    """A bearer token wins over the cookie: API clients send one, the console relies on the cookie."""
    header = conn.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return conn.cookies.get(SESSION_COOKIE)


def uses_cookie(conn: HTTPConnection) -> bool:
    return not conn.headers.get("authorization", "").lower().startswith("bearer ")
