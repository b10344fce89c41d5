"""Pages and static files: the demo site, the console, and the widget script."""

from __future__ import annotations

import hashlib
import re
from email.utils import formatdate
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from widget_server.assets import asset_dir

_HERE = Path(__file__).resolve().parent
PAGES = _HERE / "pages"
STATIC = _HERE / "static"

CONSOLE_CSP = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
DEMO_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; base-uri 'none'"
)


async def home(_: Request) -> Response:
    return RedirectResponse("/demo")


async def demo(_: Request) -> Response:
    return FileResponse(PAGES / "demo.html", headers={"Content-Security-Policy": DEMO_CSP})


async def console(_: Request) -> Response:
    return FileResponse(STATIC / "console.html", headers={"Content-Security-Policy": CONSOLE_CSP})


# The protocol client the console imports as ES modules; the widget gets the same source inside its one script.
WIDGET_PARTS = (STATIC / "protocol" / "seq_ledger.js", STATIC / "protocol" / "connection.js")


# Lines that hold only a comment; the widget's budget is 15 KB gzip on every page of every site, and readers of
# the served file have the sources. (A comment after code stays: telling it from a string needs a parser.)
_COMMENT_LINES = re.compile(r"^[ \t]*(?://[^\n]*|/\*(?:[^*]|\*(?!/))*\*/[ \t]*)\n", re.M)


def widget_script(widget: Path, shared: tuple[Path, ...] = WIDGET_PARTS) -> str:
    """One classic script for site owners' one tag: the shared modules and the widget inside one function.

    Each shared module ends with its only export line, which a classic script cannot have and the function's
    scope does not need. Joining text is all it takes, so there is no build step; the size test measures this.
    """
    parts = []
    for path in shared:
        lines = path.read_text().rstrip("\n").split("\n")
        if not lines[-1].startswith("export {") or any(line.startswith("export") for line in lines[:-1]):
            raise RuntimeError(f"{path.name} must end with its only export line")
        parts.append("\n".join(lines[:-1]) + "\n")
    source = "".join(parts) + widget.read_text()
    return "(() => {\n'use strict';\n" + _COMMENT_LINES.sub("", source) + "})();\n"


def _widget_response_parts() -> tuple[bytes, dict[str, str]]:
    widget = asset_dir("widget_js") / "widget.js"
    body = widget_script(widget).encode()
    newest = max(path.stat().st_mtime for path in (widget, *WIDGET_PARTS))
    # Sites cache the loader; a short max-age lets fixes reach visitors within minutes.
    headers = {
        "Cache-Control": "public, max-age=300",
        "Access-Control-Allow-Origin": "*",
        "ETag": f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"',
        "Last-Modified": formatdate(newest, usegmt=True),
    }
    return body, headers


# Joined once, when the server starts: the files do not change under a running server.
_WIDGET_BODY, _WIDGET_HEADERS = _widget_response_parts()


async def widget_js(_: Request) -> Response:
    return Response(_WIDGET_BODY, media_type="text/javascript; charset=utf-8", headers=_WIDGET_HEADERS)


async def healthz(_: Request) -> Response:
    return Response("ok", media_type="text/plain")


routes = [
    Route("/", home),
    Route("/demo", demo),
    Route("/console", console),
    Route("/widget.js", widget_js),
    Route("/healthz", healthz),
    Mount("/static", StaticFiles(directory=STATIC), name="static"),
]
