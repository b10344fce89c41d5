"""What a message text may hold."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Newlines and tabs are how people format a message; every other control character is noise at best and a
# terminal or header trick at worst.
_ALLOWED_CONTROLS = {"\n", "\t"}


@dataclass(frozen=True)
class TextProblem:
    code: str
    message: str


def clean_message_text(raw: str, max_chars: int) -> str | TextProblem:
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return TextProblem("invalid", "text: must not be empty")
    if len(text) > max_chars:
        return TextProblem("too_long", f"text: at most {max_chars} characters")
    if any(unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS for ch in text):
        return TextProblem("invalid", "text: control characters are not allowed")
    return text


def single_line(raw: str, max_chars: int) -> str:
    """Page titles and similar: one line, no control characters, cut to length."""
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in raw)
    return " ".join(text.split())[:max_chars]
