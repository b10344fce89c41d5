"""Pages and static files: the demo site, the console, and the widget script."""

from __future__ import annotations

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


async def widget_js(_: Request) -> Response:
    # Sites cache the loader; a short max-age lets fixes reach visitors within minutes.
    return FileResponse(
        asset_dir("widget_js") / "widget.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


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
