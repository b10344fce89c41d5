"""The contact forms as a visitor and an operator see them, in Chromium, with the server's clock driven by the test."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.live_server import ADMIN_EMAIL, ADMIN_PASSWORD, LiveServer
from widget_server.clock import FakeClock

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def timed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server on a FakeClock: the test decides when 5 seconds have passed."""
    tmp = tmp_path_factory.mktemp("e2e-forms")
    server = LiveServer(data_dir=tmp, database_url=f"sqlite+aiosqlite:///{tmp / 'forms.db'}", clock=FakeClock())
    server.start()
    yield server
    server.stop()


def test_intro_form_grows_validates_and_lands_in_the_console(timed, browser, shots):
    operator_ctx = browser.new_context(viewport={"width": 1280, "height": 820})
    visitor_ctx = browser.new_context(viewport={"width": 1280, "height": 820}, locale="es-ES")
    console = operator_ctx.new_page()
    console.goto(f"{timed.url}/console")
    console.locator("#login-email").fill(ADMIN_EMAIL)
    console.locator("#login-password").fill(ADMIN_PASSWORD)
    console.get_by_role("button", name="Log in").click()
    expect(console.locator("#presence-status")).to_have_value("online")  # someone can answer: no offline form

    visitor = visitor_ctx.new_page()
    visitor.goto(f"{timed.url}/demo")
    visitor.get_by_role("button", name="Open chat").click()
    widget = visitor.locator("#openline-widget")
    expect(widget.locator(".ol-message.ol-from-bot")).to_have_count(1)  # the greeting
    forms = widget.locator("form.ol-form")

    # That no form comes before 5 s is proven where the socket can be read up to a pong, without waiting
    # (tests/integration/test_contact_forms.py); here the browser shows the form that comes at 5 s.
    expect(forms).to_have_count(0)
    timed.clock.advance(5)
    intro = widget.locator("form.ol-form[data-kind=intro]")
    expect(intro).to_be_visible()
    expect(intro.get_by_text("Please introduce yourself")).to_be_visible()
    expect(intro.locator("input")).to_have_count(1)
    expect(intro.get_by_label("Your name")).to_be_focused()
    visitor.screenshot(path=str(shots / "forms-1-intro-name.png"))

    intro.get_by_label("Your name").fill("Ana García")
    intro.get_by_label("Your name").press("Enter")
    expect(intro.get_by_label("E-mail")).to_be_visible()
    expect(intro.get_by_label("Phone")).to_be_visible()
    expect(intro.get_by_label("Your name")).to_have_value("Ana García")
    expect(intro.get_by_label("E-mail")).to_be_focused()

    intro.get_by_label("E-mail").fill("ana@")
    intro.get_by_label("Phone").fill("600 123 456")
    intro.get_by_role("button", name="Send").click()
    email_error = intro.locator(".ol-field[data-field=email] .ol-field-error")
    expect(email_error).to_have_text("This does not look like an e-mail address.")
    expect(intro.get_by_label("E-mail")).to_have_attribute("aria-invalid", "true")
    expect(intro.get_by_label("Phone")).to_have_value("600 123 456")  # the rest keeps what was typed
    visitor.screenshot(path=str(shots / "forms-2-intro-bad-email.png"))

    intro.get_by_label("E-mail").fill("ana@example.com")
    intro.get_by_label("E-mail").press("Enter")
    expect(forms).to_have_count(0)
    expect(widget.locator(".ol-notice")).to_have_text("Thank you!")

    # The operator opens the dialog: the contact card is there, in E.164, with the new lead.
    console.locator(".dialog-item").first.click()
    card = console.locator("#chat-messages .contact-card").last
    expect(card.locator(".contact-email")).to_have_text("ana@example.com")
    expect(card.locator(".contact-phone")).to_have_text("+34600123456")  # the browser's language gave Spain
    expect(card.locator(".contact-name")).to_have_text("Ana García")
    console.screenshot(path=str(shots / "forms-3-console-card.png"))
    card.locator(".crm-open").click()
    panel = console.locator("#crm-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".crm-event")).not_to_have_count(0)
    expect(panel.locator(".crm-fields")).to_contain_text("Website chat")
    console.screenshot(path=str(shots / "forms-4-console-lead.png"))
    panel.press("Escape")
    expect(panel).to_be_hidden()

    # The details panel knows the client now: e-mail, phone, and the lead, which opens the same card.
    details = console.locator("#details")
    expect(details.locator("#d-client-email")).to_have_text("ana@example.com")
    expect(details.locator("#d-client-phone")).to_have_text("+34600123456")
    details.locator("#d-client-record").get_by_role("button", name=re.compile("Lead #")).click()
    expect(panel).to_be_visible()
    expect(panel.locator(".crm-fields")).to_contain_text("ana@example.com")
    panel.press("Escape")
    operator_ctx.close()
    visitor_ctx.close()


def test_rating_then_transcript_form_and_the_transcript_icon(timed, browser, shots):
    with httpx.Client(base_url=timed.url) as http:
        token = http.post("/api/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).json()["token"]
        http.patch(
            "/api/lines/demo", json={"settings": {"rating_enabled": True}}, headers={"Authorization": f"Bearer {token}"}
        ).raise_for_status()
    operator_ctx = browser.new_context(viewport={"width": 1280, "height": 820})
    visitor_ctx = browser.new_context(viewport={"width": 1280, "height": 820})
    console = operator_ctx.new_page()
    console.goto(f"{timed.url}/console")
    console.locator("#login-email").fill(ADMIN_EMAIL)
    console.locator("#login-password").fill(ADMIN_PASSWORD)
    console.get_by_role("button", name="Log in").click()
    expect(console.locator("#presence-status")).to_have_value("online")

    visitor = visitor_ctx.new_page()
    visitor.goto(f"{timed.url}/demo")
    visitor.get_by_role("button", name="Open chat").click()
    widget = visitor.locator("#openline-widget")
    widget.get_by_label("Message").fill("Where is my order?")
    widget.get_by_label("Message").press("Enter")
    expect(widget.locator(".ol-message.ol-from-visitor[data-seq]")).to_have_count(1)
    expect(widget.locator(".ol-dialog-number")).to_have_text(re.compile(r"#\d+"))
    number = widget.locator(".ol-dialog-number").inner_text().split("#")[1]

    # The transcript icon offers the form at any time; the visitor closes it for now.
    widget.get_by_role("button", name="Send a copy of the conversation").click()
    transcript = widget.locator("form.ol-form[data-kind=transcript]")
    expect(transcript.get_by_label("E-mail")).to_be_visible()
    transcript.get_by_role("button", name="Not now").click()
    expect(transcript).to_have_count(0)

    item = console.locator(".dialog-item", has=console.locator(".dialog-number", has_text=f"#{number}"))
    item.click()
    console.locator("#finish-dialog").click()
    rating = widget.locator("form.ol-form[data-kind=rating]")
    expect(rating).to_be_visible()  # at once, at the end
    timed.clock.advance(10)
    rating.get_by_text("Good").click()
    rating.get_by_label("Comment (optional)").fill("Fast and friendly")
    visitor.screenshot(path=str(shots / "forms-5-rating.png"))
    rating.get_by_role("button", name="Send").click()
    expect(rating).to_have_count(0)
    expect(console.locator("#chat-messages .rating-card")).to_contain_text("Fast and friendly")

    timed.clock.advance(5)  # 5 s after the rating, not 30 s after the end
    expect(widget.locator("form.ol-form[data-kind=transcript]")).to_be_visible()
    visitor.screenshot(path=str(shots / "forms-6-transcript.png"))
    console.screenshot(path=str(shots / "forms-7-console-rating.png"))
    operator_ctx.close()
    visitor_ctx.close()
