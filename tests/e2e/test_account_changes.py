"""In Chromium: an admin changes an operator who has the console open; the console follows at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.clients import api, login, make_operator

pytestmark = pytest.mark.browser


def test_the_console_follows_a_demotion_and_shows_the_login_once_disabled(live, browser, shots):
    admin = login(live)
    ada, _ = make_operator(live, admin, ["demo"], role="admin", name="Ada")
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{live.url}/console")
    page.locator("#login-email").fill(ada["email"])
    page.locator("#login-password").fill("long-enough-pw")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#conn-text")).to_have_text("Connected")
    page.locator("#admin-tab").click()
    expect(page.locator("#admin-view")).to_be_visible()

    # Made an operator while on the Admin page: the console reconnects as an operator and leaves the page.
    with api(live, admin) as client:
        assert client.patch(f"/api/operators/{ada['id']}", json={"role": "operator"}).status_code == 200
    expect(page.locator("#admin-tab")).to_be_hidden()
    expect(page.locator("#admin-view")).to_be_hidden()
    expect(page.locator("#inbox-view")).to_be_visible()
    expect(page.locator("#notice-text")).to_contain_text("changed by an admin")
    expect(page.locator("#conn-text")).to_have_text("Connected")
    page.screenshot(path=str(shots / "account-1-demoted.png"))

    # Disabled: the login form, without a reload.
    with api(live, admin) as client:
        assert client.patch(f"/api/operators/{ada['id']}", json={"is_active": False}).status_code == 200
    expect(page.locator("#login-view")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("log in again")
    page.screenshot(path=str(shots / "account-2-disabled.png"))
    page.context.close()
