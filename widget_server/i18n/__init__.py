"""Translations: Babel catalogs in `locale/<lang>/LC_MESSAGES/messages.po`, read at first use.

The `.po` files are the source of truth and are read directly (no compile step to forget). A string missing
from a catalog falls back to English, the message id itself, never to a raw key.

Add a string: write it in English through `gettext`/`ngettext`, run
`pybabel extract -F babel.cfg -k gettext:2 -k ngettext:2,3 --no-default-keywords --no-location --project Openline
-o widget_server/i18n/messages.pot .` (the message is our functions' second argument: the first is the language) and
`pybabel update -N -i widget_server/i18n/messages.pot -d widget_server/i18n/locale`, then translate.
"""

from __future__ import annotations

import io
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "en"
SUPPORTED = ("en", "ru", "es", "uk")


def normalize_language(value: str | None) -> str:
    """`ru-RU`, `ru_RU`, `RU` -> `ru`; anything unsupported -> English."""
    if not value:
        return DEFAULT_LANGUAGE
    base = value.replace("_", "-").split("-", 1)[0].strip().lower()
    return base if base in SUPPORTED else DEFAULT_LANGUAGE


@cache
def translations(language: str) -> NullTranslations:
    language = normalize_language(language)
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    # Babel's Translations reads the binary .mo form; build it in memory from the .po.
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined; it is translated later, where it is used."""
    return message


def gettext(language: str, message: str, **values: object) -> str:
    text = translations(language).gettext(message)
    return text.format(**values) if values else text


def ngettext(language: str, singular: str, plural: str, n: int, **values: object) -> str:
    text = translations(language).ngettext(singular, plural, n)
    return text.format(n=n, **values)
