"""Turning what an operator types into a full-text query, the same on SQLite (FTS5) and PostgreSQL (tsquery).

Words are letters and digits in any script; every word must match (AND) as a prefix of a word in the text, so
"ship spa" finds "Do you ship to Spain?". Words of one character are left out: as prefixes they match nearly
everything and cost a scan of the index. Nothing the operator types reaches the query syntax: only the words
do, each one quoted.
"""

from __future__ import annotations

import re
import unicodedata

MAX_TERMS = 8
MAX_TERM_CHARS = 64
MIN_TERM_CHARS = 2

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def search_terms(raw: str) -> tuple[str, ...]:
    """The words to search for, lower-cased, in order, without repeats."""
    terms: list[str] = []
    for match in _WORD.finditer(raw[:1000]):
        # Case folding can take a letter apart ("ῶ" -> "ω" + a combining accent, "İ" -> "i" + a dot): put it back
        # together, and drop what still is not a letter or digit, so a term stays letters and digits only.
        folded = unicodedata.normalize("NFC", match.group().casefold())
        word = "".join(c for c in folded if c.isalnum())[:MAX_TERM_CHARS]
        if len(word) >= MIN_TERM_CHARS and word not in terms:
            terms.append(word)
        if len(terms) == MAX_TERMS:
            break
    return tuple(terms)


def fts5_match(terms: tuple[str, ...]) -> str:
    """An FTS5 MATCH expression: every term as a quoted prefix, implicitly AND-ed."""
    return " ".join(f'"{term}"*' for term in terms)


def pg_tsquery(terms: tuple[str, ...]) -> str:
    """A `to_tsquery('simple', ...)` expression: every term as a prefix, AND-ed."""
    return " & ".join(f"'{term}':*" for term in terms)


def dialog_number(raw: str) -> int | None:
    """A lone number may be a dialog number ("7", "1042" or "#1042"): the search then finds that dialog too."""
    digits = raw.strip().removeprefix("#").strip()
    if digits.isascii() and digits.isdigit() and len(digits) <= 18:
        return int(digits)
    return None
