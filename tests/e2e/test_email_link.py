"""In Chromium: the link in an unread-messages e-mail opens the site's page with the widget on that dialog."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.clients import OperatorClient, Visitor, api, login
from tests.support.live_server import ADMIN_EMAIL, ADMIN_PASSWORD, LiveServer
from tests.support.services import run_async
from tests.support.smtp import MailSink
from widget_server.clock import FakeClock

pytestmark = pytest.mark.browser

ANSWER = "Yes, we ship to Spain within 3 days."


@pytest.fixture(scope="module")
def mail_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, MailSink]]:
    """The injected clock (the minute passes when the test says so) and a real SMTP server."""
    tmp = tmp_path_factory.mktemp("e2e-mail")
    sink = MailSink().start()
    server = LiveServer(
        data_dir=tmp,
        database_url=f"sqlite+aiosqlite:///{tmp / 'e2e.db'}",
        clock=FakeClock(),
        overrides=sink.settings(),
    ).start()
    yield server, sink
    server.stop()
    sink.stop()


def wait_for_mail(sink: MailSink, address: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not sink.to(address):
        assert time.monotonic() < deadline, f"no e-mail to {address}"
        time.sleep(0.05)
    return sink.to(address)


def test_the_link_in_an_unread_email_reopens_the_widget_on_that_dialog(mail_live, browser, shots):
    server, sink = mail_live
    token = login(server)

    # A visitor asks on the demo site, leaves an e-mail, and closes the page before the answer.
    first = browser.new_context(viewport={"width": 1280, "height": 800})
    page = first.new_page()
    page.goto(f"{server.url}/demo")
    page.get_by_role("button", name="Open chat").click()
    widget = page.locator("#openline-widget")
    widget.get_by_label("Message").fill("Do you ship to Spain?")
    widget.get_by_label("Message").press("Enter")
    expect(widget.locator(".ol-message.ol-from-visitor[data-seq]")).to_have_count(1)
    # Nobody is online, so the offline form offers itself; this visitor says "not now" (the address comes below).
    offline = widget.locator('.ol-form[data-kind="offline"]')
    expect(offline).to_be_visible()
    # The form takes room from the conversation, but the question just asked stays in view above it.
    expect(widget.locator(".ol-message.ol-from-visitor", has_text="Do you ship to Spain?")).to_be_in_viewport()
    offline.get_by_role("button", name="Not now").click()
    expect(offline).to_have_count(0)
    number = re.search(r"\d+", widget.locator(".ol-dialog-number").inner_text()).group(0)
    with api(server, token) as client:
        dialog = next(d for d in client.get("/api/dialogs").json()["items"] if str(d["number"]) == number)
        client.put(f"/api/dialogs/{dialog['id']}/visitor-email", json={"email": "maria@example.com"}).raise_for_status()
    first.close()

    async def answer() -> None:
        operator = await OperatorClient.connect(server, token)
        await operator.say(dialog["id"], ANSWER)
        await operator.close()

    run_async(answer())
    server.clock.advance(61)
    [received] = wait_for_mail(sink, "maria@example.com")
    link = re.search(r"https?://\S+#openline=[0-9A-Za-z._-]+", received.text()).group(0)

    # The e-mail as the visitor sees it.
    mail_view = browser.new_context(viewport={"width": 760, "height": 900}, java_script_enabled=False)
    mail_page = mail_view.new_page()
    mail_page.set_content(received.html())
    mail_page.screenshot(path=str(shots / "email-unread.png"), full_page=True)
    mail_view.close()

    # Another browser (the phone where the e-mail was read): no token, no history. The link opens the widget on
    # the dialog, with the answer, and the token leaves the address bar.
    second = browser.new_context(viewport={"width": 1280, "height": 800})
    phone = second.new_page()
    phone.goto(link)
    widget = phone.locator("#openline-widget")
    expect(widget.locator(".ol-window")).to_be_visible()
    expect(widget.locator(".ol-dialog-number")).to_have_text(re.compile(rf"#{number}\b"))
    expect(widget.locator(".ol-message.ol-from-operator .ol-text")).to_have_text(ANSWER)
    expect(widget.locator(".ol-message.ol-from-visitor .ol-text")).to_have_text("Do you ship to Spain?")
    assert "openline=" not in phone.url and phone.url.startswith(f"{server.url}/demo")
    phone.screenshot(path=str(shots / "email-link-widget.png"))

    # The visitor answers from there: the operator's dialog gets it.
    widget.get_by_label("Message").fill("Great, thank you!")
    widget.get_by_label("Message").press("Enter")
    expect(widget.locator(".ol-message.ol-from-visitor[data-seq]")).to_have_count(2)
    messages = httpx.get(
        f"{server.url}/api/dialogs/{dialog['id']}/messages", headers={"Authorization": f"Bearer {token}"}
    ).json()["items"]
    assert messages[-1]["text"] == "Great, thank you!"
    second.close()

    # A link that was tampered with (or expired) opens the chat with a word about it, and nothing of the dialog.
    third = browser.new_context()
    stranger = third.new_page()
    stranger.goto(re.sub(r"\.[0-9A-Za-z_-]{24}$", "." + "A" * 24, link))
    widget = stranger.locator("#openline-widget")
    expect(widget.locator(".ol-window")).to_be_visible()
    expect(widget.locator(".ol-notice")).to_have_text("This link has expired. Write to us here and we will answer.")
    expect(widget.locator(".ol-message.ol-from-operator")).to_have_count(0)
    third.close()


def test_without_smtp_operators_read_held_emails_in_the_console_outbox(live, browser, shots):
    """`make run` has no SMTP server: e-mails wait in the outbox, and the console shows them."""
    token = login(live)

    async def visitor_asks() -> int:
        visitor = await Visitor.connect(live, line="demo")
        ack = await visitor.say("Please send me this conversation.")
        await visitor.close()
        return int(ack["dialog_id"])

    dialog_id = run_async(visitor_asks())
    with api(live, token) as client:
        client.post(f"/api/dialogs/{dialog_id}/transcript", json={"email": "held@example.com"}).raise_for_status()

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{live.url}/console")
    page.locator("#login-email").fill(ADMIN_EMAIL)
    page.locator("#login-password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Outbox").click()
    expect(page.locator("#ob-held")).to_be_visible()
    row = page.locator("#ob-rows tr", has_text="held@example.com").first
    expect(row.locator(".ob-pill")).to_have_text("Held (no SMTP)")
    row.click()
    expect(page.locator("#ob-text")).to_contain_text("Please send me this conversation.")
    expect(page.locator("#ob-subject")).to_have_text(re.compile(r"^Your conversation with Demo shop \(dialog #\d+\)$"))
    page.screenshot(path=str(shots / "console-outbox.png"))
    context.close()


def test_the_widget_speaks_the_lines_language(mail_live, browser, shots):
    server, _ = mail_live
    token = login(server)
    with api(server, token) as client:
        client.patch("/api/lines/demo", json={"language": "ru"}).raise_for_status()
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(f"{server.url}/demo")
        page.get_by_role("button", name="Открыть чат").click()
        widget = page.locator("#openline-widget")
        expect(widget.locator("button.ol-send")).to_have_text("Отправить")
        expect(widget.locator(".ol-dialog-number")).to_have_text(re.compile(r"^Диалог №\d+$"))
        expect(widget.get_by_role("button", name="Закрыть чат")).to_be_visible()
        expect(widget.get_by_label("Сообщение")).to_be_focused()
        page.screenshot(path=str(shots / "widget-russian.png"))
        context.close()
    finally:
        with api(server, token) as client:
            client.patch("/api/lines/demo", json={"language": "en"}).raise_for_status()
