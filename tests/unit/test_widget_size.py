"""The widget is one script on every page of every site that embeds it: it stays small."""

from __future__ import annotations

import gzip
from pathlib import Path

from widget_server.web.pages import widget_script

WIDGET_JS = Path(__file__).parents[2] / "widget_js" / "widget.js"


def test_the_served_widget_with_its_protocol_client_is_at_most_15_kb_gzipped():
    served = widget_script(WIDGET_JS).encode()
    assert len(gzip.compress(served, compresslevel=9)) <= 15_000
