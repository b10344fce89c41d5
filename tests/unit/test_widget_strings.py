"""The widget's texts: the server's list and the widget's English fallbacks are the same, and all translated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from widget_server.i18n import SUPPORTED
from widget_server.i18n.widget_strings import WIDGET_STRINGS, widget_strings

WIDGET_JS = Path(__file__).parents[2] / "widget_js" / "widget.js"


def widget_fallbacks() -> dict[str, str]:
    source = WIDGET_JS.read_text()
    block = re.search(r"const TEXTS = \{(.*?)\n\};", source, re.S)
    assert block, "widget.js has no TEXTS table"
    return dict(re.findall(r"(\w+): '([^']*)'", block.group(1)))


def test_the_widget_has_an_english_fallback_for_every_text_the_server_sends():
    assert widget_fallbacks() == WIDGET_STRINGS


def test_every_text_the_widget_looks_up_exists():
    used = set(re.findall(r"\bt\('(\w+)'", WIDGET_JS.read_text()))
    used |= {f"error_{code}" for code in ("too_long", "rate_limited", "internal", "invalid", "form_closed")}
    assert used <= set(WIDGET_STRINGS)


@pytest.mark.parametrize("language", [lang for lang in SUPPORTED if lang != "en"])
def test_the_widget_texts_are_translated_with_their_fields_kept(language):
    translated = widget_strings(language)
    for key, english in WIDGET_STRINGS.items():
        assert translated[key] != english or (key == "chat" and language == "es"), key
        assert re.findall(r"\{\w+\}", translated[key]) == re.findall(r"\{\w+\}", english), key
