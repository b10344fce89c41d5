"""Catalogs are complete, and a missing string falls back to English, never to a raw key."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from widget_server.i18n import LOCALE_DIR, SUPPORTED, gettext, normalize_language


@pytest.mark.parametrize("language", [lang for lang in SUPPORTED if lang != "en"])
def test_every_string_is_translated(language):
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    missing = [m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
    assert missing == []
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert fuzzy == []


def test_system_notices_follow_the_line_language():
    assert gettext("ru", "{name} joined the chat", name="Анна") == "Оператор Анна подключён к чату"
    assert gettext("es-ES", "{name} closed the dialog", name="Ana") == "Ana cerró el diálogo"


def test_an_unknown_string_or_language_falls_back_to_english():
    assert gettext("uk", "Not in any catalog") == "Not in any catalog"
    assert gettext("fr", "{name} joined the chat", name="Anne") == "Anne joined the chat"
    assert normalize_language("ru_RU") == "ru" and normalize_language(None) == "en"
