"""Browser tests: a real Chromium (Debian's) driven by Playwright against the real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live_server import LiveServer
from tests.support.services import need_browser
from widget_server.clock import SystemClock

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """SQLite and the wall clock: the browser runs on real time, and the screenshots show real times."""
    tmp = tmp_path_factory.mktemp("e2e")
    server = LiveServer(data_dir=tmp, database_url=f"sqlite+aiosqlite:///{tmp / 'e2e.db'}", clock=SystemClock())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=BROWSER_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    path = Path(__file__).parent.parent / "artifacts"
    path.mkdir(exist_ok=True)
    return path
