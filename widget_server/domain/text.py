"""What a message text may hold."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Unicode's control characters (category Cc) are exactly U+0000-U+001F and U+007F-U+009F. Newlines and tabs are
# how people format a message; every other one is noise at best and a terminal or header trick at worst. A
# character class, because asking `unicodedata` about each character cost ~45 us for a 250-character message
# on the event loop, every message (a unit test checks the class against `unicodedata` for all code points).
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")
_REFUSED_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


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
    if _REFUSED_CONTROLS.search(text):
        return TextProblem("invalid", "text: control characters are not allowed")
    return text


def single_line(raw: str, max_chars: int) -> str:
    """Page titles and similar: one line, no control characters, cut to length."""
    text = CONTROL_CHARACTERS.sub(" ", raw)
    return " ".join(text.split())[:max_chars]
