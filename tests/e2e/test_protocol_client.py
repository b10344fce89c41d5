"""The protocol client the widget and the console share (widget_server/web/static/protocol/), in a real browser."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.live_server import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.browser


def test_the_widget_is_one_classic_script_with_the_protocol_client_inside(live):
    res = httpx.get(f"{live.url}/widget.js")
    assert res.status_code == 200
    assert res.headers["content-type"] == "text/javascript; charset=utf-8"
    assert res.headers["cache-control"] == "public, max-age=300"
    assert res.headers["access-control-allow-origin"] == "*"
    assert res.headers["etag"] and res.headers["last-modified"]
    # A site's one <script> tag: no module syntax, and nothing leaks out of the function into the page.
    assert not re.search(r"^\s*(?:export|import)\b", res.text, re.M)
    assert res.text.startswith("(() => {\n") and res.text.endswith("})();\n")
    assert "function createConnection(" in res.text and "function createSeqLedger(" in res.text


def test_the_seq_ledger_drops_repeats_and_resumes_where_nothing_is_missing(live, browser):
    page = browser.new_page()
    page.goto(f"{live.url}/console")  # the console's origin and Content-Security-Policy
    seen = page.evaluate(
        """async () => {
          const { createSeqLedger } = await import('/static/protocol/seq_ledger.js');
          const operator = createSeqLedger({ skipsAreNormal: false });
          const visitor = createSeqLedger({ skipsAreNormal: true });
          const steps = [];
          // A console hears 5 and 6 live before it reads the dialog; its history then comes from 4.
          steps.push(operator.accept(17, 5), operator.accept(17, 6), operator.upTo(17));
          operator.start(17, 3);
          steps.push(operator.accept(17, 4), operator.accept(17, 5), operator.upTo(17));
          // A reconnect left 7 out: the resume point waits below the hole until 7 comes.
          steps.push(operator.accept(17, 8), operator.upTo(17), operator.accept(17, 7), operator.upTo(17));
          steps.push(operator.accept(17, 7), operator.upTo(18));
          // A visitor never gets 3 (a note): 4 is the resume point all the same.
          steps.push(visitor.accept(17, 1), visitor.accept(17, 2), visitor.accept(17, 4), visitor.upTo(17));
          steps.push(visitor.accept(17, 4), visitor.accept(17, 3));
          visitor.forget(17);
          steps.push(visitor.upTo(17));
          return steps;
        }"""
    )
    assert seen == [
        *(True, True, 0),
        *(True, False, 6),
        *(True, 6, True, 8),
        *(False, 0),
        *(True, True, True, 4),
        *(False, False),
        0,
    ]
    page.close()


def test_both_pages_reconnect_after_a_restart_and_send_what_was_written_offline_once(live, browser, shots):
    visitor_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    operator_ctx = browser.new_context(viewport={"width": 1400, "height": 860})
    visitor, console = visitor_ctx.new_page(), operator_ctx.new_page()
    errors: list[str] = []
    for page in (visitor, console):
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)

    visitor.goto(f"{live.url}/demo")
    visitor.get_by_role("button", name="Open chat").click()
    widget = visitor.locator("#openline-widget")
    widget.get_by_label("Message").fill("Before the restart")
    widget.get_by_label("Message").press("Enter")
    expect(widget.locator(".ol-message.ol-from-visitor[data-seq]")).to_have_count(1)

    console.goto(f"{live.url}/console")
    console.locator("#login-email").fill(ADMIN_EMAIL)
    console.locator("#login-password").fill(ADMIN_PASSWORD)
    console.get_by_role("button", name="Log in").click()
    expect(console.locator("#conn-text")).to_have_text("Connected")
    console.locator(".dialog-item").first.click()
    expect(console.locator("#chat-messages .msg-visitor .msg-text")).to_have_text("Before the restart")

    # The server goes away: both pages say so, and what is written meanwhile waits on the page.
    live.stop()
    expect(widget.locator(".ol-status")).to_be_visible()
    expect(console.locator("#conn-text")).to_have_text(re.compile(r"^Disconnected, retrying in \d+ s$"))
    widget.get_by_label("Message").fill("Written while the server was down")
    widget.get_by_label("Message").press("Enter")
    console.locator("#reply-input").fill("Answered while the server was down")
    console.locator("#reply-input").press("Enter")
    expect(widget.locator(".ol-message.ol-pending")).to_have_count(1)

    # Back: each page reconnects with its back-off and sends what waited, with the same client_msg_id.
    live.start()
    expect(widget.locator(".ol-status")).to_be_hidden(timeout=40_000)
    expect(console.locator("#conn-text")).to_have_text("Connected", timeout=40_000)
    offline_visitor = console.locator("#chat-messages .msg-visitor .msg-text", has_text="Written while the server")
    offline_answer = widget.locator(".ol-from-operator .ol-text", has_text="Answered while the server was down")
    expect(offline_visitor).to_have_count(1)
    expect(offline_answer).to_have_count(1)

    # One more message each way: once it has arrived, the ones sent again are still there once.
    widget.get_by_label("Message").fill("After the restart")
    widget.get_by_label("Message").press("Enter")
    console.locator("#reply-input").fill("Answered after the restart")
    console.locator("#reply-input").press("Enter")
    expect(console.locator("#chat-messages .msg-visitor .msg-text", has_text="After the restart")).to_have_count(1)
    expect(widget.locator(".ol-from-operator .ol-text", has_text="Answered after the restart")).to_have_count(1)
    expect(offline_visitor).to_have_count(1)
    expect(offline_answer).to_have_count(1)
    seqs = widget.locator(".ol-message[data-seq]").evaluate_all("els => els.map((e) => Number(e.dataset.seq))")
    assert seqs == sorted(set(seqs))

    visitor.screenshot(path=str(shots / "protocol-client-widget.png"))
    console.screenshot(path=str(shots / "protocol-client-console.png"))
    assert errors == []
    visitor_ctx.close()
    operator_ctx.close()
