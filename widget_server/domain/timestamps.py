"""How a moment is written in every frame, API answer and stored record: ISO 8601 in UTC, to the microsecond."""

from __future__ import annotations

from datetime import datetime


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
