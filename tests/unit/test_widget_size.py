"""The widget is one script on every page of every site that embeds it: it stays small."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from widget_server.web.pages import widget_script

WIDGET_JS = Path(__file__).parents[2] / "widget_js" / "widget.js"


def test_the_served_widget_with_its_protocol_client_is_at_most_15_kb_gzipped():
    served = widget_script(WIDGET_JS).encode()
    assert len(gzip.compress(served, compresslevel=9)) <= 15_000


def test_only_lines_holding_nothing_but_a_comment_are_left_out_of_the_served_widget(tmp_path):
    shared = tmp_path / "shared.js"
    shared.write_text("/* A module.\n * Two lines. */\nconst a = 1; // kept: after code\nexport { a };\n")
    widget = tmp_path / "widget.js"
    widget.write_text(
        "  // gone\n/* x */ const b = a;\nconst c = `\n/* in a template: gone too, harmless in CSS */\n`;\n"
    )
    served = widget_script(widget, (shared,))
    assert served == (
        "(() => {\n'use strict';\nconst a = 1; // kept: after code\n/* x */ const b = a;\nconst c = `\n`;\n})();\n"
    )


def test_a_shared_module_must_end_with_its_only_export_line(tmp_path):
    shared = tmp_path / "shared.js"
    shared.write_text("export const a = 1;\n")
    with pytest.raises(RuntimeError, match="export line"):
        widget_script(tmp_path / "widget.js", (shared,))
