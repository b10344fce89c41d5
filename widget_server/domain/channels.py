"""Channels: where a dialog's messages come from.

Only the website widget exists today. Every dialog records its channel, so that connectors (Telegram, WhatsApp...)
can add theirs without touching the inbox: the list filters by channel and the console draws each one's icon.
"""

from __future__ import annotations

WEBSITE = "website"

# id -> the label the console shows beside the icon
CHANNELS: dict[str, str] = {WEBSITE: "Website"}


def is_channel(value: str) -> bool:
    return value in CHANNELS
