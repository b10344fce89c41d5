"""The operator inbox in Chromium: filter, open, note, canned reply, In progress, file, link, reminder."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import datetime

import pytest
from playwright.sync_api import expect

from tests.support.clients import OperatorClient, Visitor, api, login
from tests.support.live_server import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.services import run_async

pytestmark = pytest.mark.browser


def png(width: int = 240, height: int = 140) -> bytes:
    """A real picture (a gradient) for the preview, made with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\x00" + bytes(c for x in range(width) for c in (40 + x * 180 // width, 90 + y * 120 // height, 200))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def a_chat_someone_answered(live, token: str) -> int:
    """A second chat, already taken by the operator: the *unassigned* filter must leave it out."""

    async def run() -> int:
        visitor = await Visitor.connect(live, line="demo")
        ack = await visitor.say("I already have an answer, thanks")
        operator = await OperatorClient.connect(live, token)
        await operator.say(ack["dialog_id"], "You're welcome!")
        await operator.close()
        await visitor.close()
        return int(ack["dialog_id"])

    return run_async(run())


def test_an_operator_works_a_chat_from_the_inbox(live, browser, shots):
    token = login(live)
    with api(live, token) as client:
        client.post(
            "/api/lines/demo/canned",
            json={"shortcut": "ship", "title": "Shipping", "text": "We ship to all of Europe within 3 days."},
        ).raise_for_status()
        order = client.post("/api/orders", json={"title": "Blue kettle", "amount_minor": 2599, "currency": "EUR"})
        order.raise_for_status()
    taken = a_chat_someone_answered(live, token)

    visitor_ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    operator_ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    scripts_run: list[str] = []
    visitor = visitor_ctx.new_page()
    visitor.on("dialog", lambda d: (scripts_run.append(d.message), d.dismiss()))
    visitor.goto(f"{live.url}/demo")
    visitor.get_by_role("button", name="Open chat").click()
    widget = visitor.locator("#openline-widget")
    widget.get_by_label("Message").fill("Do you ship to Spain? My order is the blue kettle.")
    widget.get_by_label("Message").press("Enter")
    expect(widget.locator(".ol-message.ol-from-visitor[data-seq]")).to_have_count(1)
    number = re.search(r"#(\d+)", widget.locator(".ol-dialog-number").inner_text()).group(1)

    # Log in; filter to chats nobody has taken.
    console = operator_ctx.new_page()
    console.on("dialog", lambda d: (scripts_run.append(d.message), d.dismiss()))
    console.goto(f"{live.url}/console")
    console.locator("#login-email").fill(ADMIN_EMAIL)
    console.locator("#login-password").fill(ADMIN_PASSWORD)
    console.get_by_role("button", name="Log in").click()
    mine = console.locator(".dialog-item", has=console.locator(".dialog-number", has_text=f"#{number}"))
    expect(mine).to_be_visible()
    console.get_by_role("button", name=re.compile("^Filters")).click()
    console.get_by_label("No operator assigned").check()
    expect(console).to_have_url(re.compile(r"type=unassigned"))
    expect(console.locator(f'.dialog-item[data-dialog-id="{taken}"]')).to_have_count(0)
    expect(mine).to_be_visible()
    console.screenshot(path=str(shots / "inbox-1-filtered-unassigned.png"))
    # The filter survives a reload: it is in the URL.
    console.reload()
    expect(console.get_by_label("No operator assigned")).to_be_checked()
    expect(console.locator(f'.dialog-item[data-dialog-id="{taken}"]')).to_have_count(0)

    # Open the chat: client name, number and channel in the header.
    mine.click()
    expect(console.locator("#chat-number")).to_have_text(f"#{number}")
    expect(console.locator("#chat-channel")).to_have_attribute("aria-label", "Website")
    expect(console.locator("#chat-messages .msg-visitor .msg-text")).to_have_text(
        "Do you ship to Spain? My order is the blue kettle."
    )

    # A note, for staff only.
    console.get_by_role("radio", name="Note").check()
    console.locator("#reply-input").fill("Loyal customer: offer free shipping.")
    console.locator("#reply-input").press("Enter")
    expect(console.locator("#chat-messages .msg-note[data-seq] .msg-text")).to_have_text(
        "Loyal customer: offer free shipping."
    )

    # A canned reply, by typing its shortcut.
    console.get_by_role("radio", name="Reply").check()
    console.locator("#reply-input").fill("/sh")
    expect(console.locator("#canned-menu .canned-item")).to_have_count(1)
    console.locator("#reply-input").press("Enter")
    expect(console.locator("#reply-input")).to_have_value("We ship to all of Europe within 3 days.")
    console.locator("#reply-input").press("Enter")
    answer = widget.locator(".ol-message.ol-from-operator .ol-text")
    expect(answer.last).to_have_text("We ship to all of Europe within 3 days.")

    # In progress (answering assigned the chat already; the button shows it and the status says so).
    expect(console.locator("#chat-status")).to_have_text(re.compile("In progress"))
    console.locator("#chat-status").click()
    console.get_by_role("menuitem", name="Waiting for client").click()
    expect(console.locator("#chat-status")).to_have_text(re.compile("Waiting for client"))
    console.locator("#take-dialog").click()
    expect(console.locator("#chat-status")).to_have_text(re.compile("In progress"))
    expect(console.locator("#take-dialog")).to_be_disabled()

    # A file: a preview in the console and in the widget.
    console.locator("#attach-input").set_input_files(
        files=[{"name": "label.png", "mimeType": "image/png", "buffer": png()}]
    )
    expect(console.locator("#chat-messages .msg-operator .msg-image")).to_have_count(1)
    expect(widget.locator(".ol-file img")).to_have_count(1)
    expect(widget.locator(".ol-file .ol-file-link")).to_have_text("label.png")

    # Link the chat to the order.
    console.locator("#link-type").select_option("order")  # leads and clients can be linked too
    console.locator("#link-query").fill("kettle")
    console.locator("#link-results").get_by_role("button", name="Link").click()
    expect(console.locator("#d-links")).to_contain_text("Blue kettle")
    console.locator("#d-links").get_by_role("button", name=re.compile("Blue kettle")).click()
    expect(console.locator("#record-card")).to_contain_text("25.99 EUR")

    # A reminder for now: it fires at once and the console shows it.
    console.get_by_role("button", name="New reminder").click()
    form = console.locator("#reminder-form")
    form.get_by_label("Remind me").fill("Check the kettle shipped")
    form.get_by_label("At").fill(datetime.now().strftime("%Y-%m-%dT%H:%M"))
    form.get_by_role("button", name="Set reminder").click()
    alert = console.locator("#alerts .alert", has_text="Check the kettle shipped")
    expect(alert).to_be_visible()
    expect(alert.get_by_role("button", name=f"Open chat #{number}")).to_be_visible()
    console.screenshot(path=str(shots / "inbox-2-chat-note-canned-file-link-reminder.png"))
    visitor.screenshot(path=str(shots / "inbox-3-widget-sees-reply-and-file-not-note.png"))

    # The visitor never saw the note.
    assert "Loyal customer" not in widget.locator(".ol-messages").inner_text()
    alert.get_by_role("button", name="Dismiss").click()
    expect(alert).to_have_count(0)

    # My tasks: the dismissed reminder is gone; a task made from the chat is there.
    console.get_by_role("button", name="New task").click()
    console.locator("#task-form").get_by_label("Task").fill("Send the invoice")
    console.locator("#task-form").get_by_role("button", name="Create task").click()
    expect(console.locator("#d-agenda")).to_contain_text("Send the invoice")
    console.locator(".view-tab[data-view=agenda]").click()
    expect(console.locator("#agenda-tasks")).to_contain_text("Send the invoice")
    console.screenshot(path=str(shots / "inbox-4-my-tasks.png"))
    console.locator(".view-tab[data-view=admin]").click()
    expect(console.locator("#admin-canned").get_by_label("Shortcut")).to_have_value("/ship")
    console.screenshot(path=str(shots / "inbox-5-admin.png"), full_page=True)

    assert scripts_run == []
    visitor_ctx.close()
    operator_ctx.close()
