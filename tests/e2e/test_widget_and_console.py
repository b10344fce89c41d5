"""A visitor on the demo site and an operator in the console talk, in two real browser contexts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.live_server import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.browser

HOSTILE = "<b>bold?</b> <img src=x onerror=alert(1)> Do you ship to Spain?"


def test_visitor_and_operator_talk_through_the_widget_and_the_console(live, browser, shots):
    visitor_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    operator_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    dialogs_seen: list[str] = []
    visitor = visitor_ctx.new_page()
    visitor.on("dialog", lambda d: (dialogs_seen.append(d.message), d.dismiss()))
    visitor.goto(f"{live.url}/demo")

    # The visitor opens the widget: the greeting and the dialog number appear.
    visitor.get_by_role("button", name="Open chat").click()
    widget = visitor.locator("#openline-widget")
    greeting = widget.locator(".ol-message.ol-from-bot .ol-text")
    expect(greeting).to_have_text("Hello! Welcome to the Demo shop. How can we help you today?")
    expect(widget.locator(".ol-dialog-number")).to_have_text(re.compile(r"#\d+"))
    number = re.search(r"#(\d+)", widget.locator(".ol-dialog-number").inner_text()).group(1)

    # The visitor writes, with HTML in the message that must stay text.
    widget.get_by_label("Message").fill(HOSTILE)
    widget.get_by_label("Message").press("Enter")
    sent = widget.locator(".ol-message.ol-from-visitor[data-seq]")
    expect(sent.locator(".ol-text")).to_have_text(HOSTILE)
    assert widget.locator(".ol-messages img, .ol-messages b").count() == 0

    # The operator logs in and sees the dialog with the same number in the live list.
    console = operator_ctx.new_page()
    console.on("dialog", lambda d: (dialogs_seen.append(d.message), d.dismiss()))
    console.goto(f"{live.url}/console")
    console.locator("#login-email").fill(ADMIN_EMAIL)
    console.locator("#login-password").fill(ADMIN_PASSWORD)
    console.get_by_role("button", name="Log in").click()
    item = console.locator(".dialog-item", has=console.locator(".dialog-number", has_text=f"#{number}"))
    expect(item).to_be_visible()
    item.click()
    expect(console.locator("#chat-number")).to_have_text(f"#{number}")
    visitor_message = console.locator("#chat-messages .msg-visitor .msg-text")
    expect(visitor_message).to_have_text(HOSTILE)
    assert console.locator("#chat-messages img, #chat-messages b").count() == 0

    # The operator answers; the visitor's page shows it, with the operator's name.
    console.locator("#reply-input").fill("Yes, we ship to Spain within 3 days.")
    console.locator("#reply-input").press("Enter")
    expect(console.locator("#chat-messages .msg-operator[data-seq] .msg-text")).to_have_text(
        "Yes, we ship to Spain within 3 days."
    )
    answer = widget.locator(".ol-message.ol-from-operator")
    expect(answer.locator(".ol-text")).to_have_text("Yes, we ship to Spain within 3 days.")
    expect(answer.locator(".ol-author")).to_have_text("Demo operator")

    visitor.screenshot(path=str(shots / "foundation-widget.png"))
    console.screenshot(path=str(shots / "foundation-console.png"))
    assert dialogs_seen == []  # no script from a message ever ran
    visitor_ctx.close()
    operator_ctx.close()


def test_the_widget_resumes_after_a_reload_without_repeating_messages(live, browser, shots):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live.url}/demo")
    page.get_by_role("button", name="Open chat").click()
    widget = page.locator("#openline-widget")
    widget.get_by_label("Message").fill("first message")
    widget.get_by_label("Message").press("Enter")
    expect(widget.locator(".ol-message.ol-from-visitor[data-seq]")).to_have_count(1)

    page.reload()
    page.get_by_role("button", name="Open chat").click()
    widget = page.locator("#openline-widget")
    widget.get_by_label("Message").fill("second message")
    widget.get_by_label("Message").press("Enter")
    expect(widget.locator(".ol-message.ol-from-visitor[data-seq]")).to_have_count(2)
    expect(widget.locator(".ol-message.ol-from-bot")).to_have_count(1)  # one greeting, not one per page
    seqs = widget.locator(".ol-message[data-seq]").evaluate_all("els => els.map(e => Number(e.dataset.seq))")
    assert seqs == sorted(set(seqs))
    context.close()


def test_the_widget_is_usable_by_keyboard(live, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live.url}/demo")
    launcher = page.get_by_role("button", name="Open chat")
    launcher.focus()
    page.keyboard.press("Enter")
    widget = page.locator("#openline-widget")
    expect(widget.get_by_label("Message")).to_be_focused()
    page.keyboard.type("typed with the keyboard")
    page.keyboard.press("Enter")
    expect(widget.locator(".ol-message.ol-from-visitor[data-seq] .ol-text")).to_have_text("typed with the keyboard")
    page.keyboard.press("Escape")
    expect(widget.locator(".ol-window")).to_be_hidden()
    expect(launcher).to_be_focused()
    context.close()
