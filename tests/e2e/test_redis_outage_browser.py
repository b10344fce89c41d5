"""The widget on one process and the console on another keep the conversation whole through a Redis restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.live_server import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.processes import RedisProcess, ServerProcess, need_redis_server
from tests.support.services import PG_HOST, PG_PORT, create_pg_database, drop_pg_database, need_service, pg_url

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess, RedisProcess]]:
    need_service("PostgreSQL", PG_HOST, PG_PORT)
    redis = RedisProcess(need_redis_server()).start()
    name = create_pg_database()
    env = {"REDIS_URL": redis.url, "DEMO": "true"}
    # The wall clock (no clock file), as for the other browser tests: the screenshots show real times.
    a = ServerProcess("a", tmp_path / "a", pg_url(name), None, env)
    b = ServerProcess("b", tmp_path / "b", pg_url(name), None, env)
    try:
        for process in (a, b):
            process.launch()
        for process in (a, b):
            process.wait_ready()  # each added its address to the demo line's allowed origins
        yield a, b, redis
    finally:
        a.stop()
        b.stop()
        redis.kill()
        drop_pg_database(name)


def test_widget_and_console_on_two_processes_catch_up_after_redis_restarts(two_processes, browser, shots):
    a, b, redis = two_processes
    visitor_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    operator_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    visitor = visitor_ctx.new_page()
    visitor.goto(f"{a.url}/demo")
    visitor.get_by_role("button", name="Open chat").click()
    widget = visitor.locator("#openline-widget")
    widget.get_by_label("Message").fill("Hello from process A")
    widget.get_by_label("Message").press("Enter")
    expect(widget.locator(".ol-message.ol-from-visitor[data-seq]")).to_have_count(1)

    console = operator_ctx.new_page()
    console.goto(f"{b.url}/console")
    console.locator("#login-email").fill(ADMIN_EMAIL)
    console.locator("#login-password").fill(ADMIN_PASSWORD)
    console.get_by_role("button", name="Log in").click()
    console.locator(".dialog-item").first.click()
    expect(console.locator("#chat-messages .msg-visitor .msg-text")).to_have_text(["Hello from process A"])
    console.locator("#reply-input").fill("Hello from process B")
    console.locator("#reply-input").press("Enter")
    expect(widget.locator(".ol-message.ol-from-operator .ol-text")).to_have_text(["Hello from process B"])

    redis.kill()
    # Both write while Redis is down: each sees its own message at once (same process), not the other's.
    widget.get_by_label("Message").fill("Written while Redis was down")
    widget.get_by_label("Message").press("Enter")
    expect(widget.locator(".ol-message.ol-from-visitor[data-seq]")).to_have_count(2)
    console.locator("#reply-input").fill("Answered while Redis was down")
    console.locator("#reply-input").press("Enter")
    expect(console.locator("#chat-messages .msg-operator[data-seq]")).to_have_count(2)
    visitor.wait_for_timeout(500)
    expect(widget.locator(".ol-message.ol-from-operator")).to_have_count(1)
    redis.start()

    # No reload, no new message: each side gets what it missed, once.
    expect(widget.locator(".ol-message.ol-from-operator .ol-text")).to_have_text(
        ["Hello from process B", "Answered while Redis was down"], timeout=15_000
    )
    expect(console.locator("#chat-messages .msg-visitor .msg-text")).to_have_text(
        ["Hello from process A", "Written while Redis was down"], timeout=15_000
    )
    expect(console.locator(".dialog-item")).to_have_count(1)
    seqs = widget.locator(".ol-message[data-seq]").evaluate_all("els => els.map(e => Number(e.dataset.seq))")
    assert seqs == sorted(set(seqs))
    seqs = console.locator("#chat-messages [data-seq]").evaluate_all("els => els.map(e => Number(e.dataset.seq))")
    assert seqs == sorted(set(seqs))
    visitor.screenshot(path=str(shots / "redis-outage-widget.png"))
    console.screenshot(path=str(shots / "redis-outage-console.png"))
    visitor_ctx.close()
    operator_ctx.close()
