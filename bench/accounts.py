"""Names every peer agrees on: the lines, the operators' session tokens, the visitors' origin."""

from __future__ import annotations

VISITOR_ORIGIN = "http://bench.local"
GREETING = "Hello! How can we help?"


def operator_token(line_id: str) -> str:
    """The session token of the operator of `line_id`; the peers derive the line from it."""
    return f"bench-operator-token-{line_id}"


def line_of_token(token: str) -> str:
    return token.removeprefix("bench-operator-token-")
