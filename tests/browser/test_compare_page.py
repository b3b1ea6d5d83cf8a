"""
The comparison page in a real browser (Debian's Chromium, headless, driven by Playwright):
the countdowns tick, the session cookie stays out of scripts' reach, and the revocation
experiment runs from its button.
"""

import re

import pytest
from django.conf import settings

from tests.support.factories import UserFactory
from tests.support.services import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COUNTDOWN = re.compile(r"^\d+:\d\d left$")


@pytest.fixture
def visitor(live_server, password):
    return UserFactory(email="viewer@example.com", password=password)


@pytest.fixture
def page(visitor, live_server, password):
    # Everything the test needs from the database exists before the browser's event loop
    # starts in this thread (Django refuses database calls inside it).
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.set_default_timeout(10_000)
        tab = context.new_page()
        errors = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.goto(f"{live_server.url}/accounts/login/?next=/compare/")
        tab.fill("input[name=username]", visitor.email)
        tab.fill("input[name=password]", password)
        tab.click("main button[type=submit]")
        tab.wait_for_url("**/compare/")
        tab.errors = errors
        try:
            yield tab
        finally:
            context.close()
            browser.close()


def test_the_access_token_countdown_ticks_in_the_browser(page):
    countdown = page.locator("[data-testid=access-countdown]")
    first = countdown.inner_text()
    assert COUNTDOWN.match(first)
    page.wait_for_function(
        "first => document.querySelector('[data-testid=access-countdown]').textContent !== first",
        arg=first,
        timeout=3_000,
    )
    assert page.errors == []


def test_scripts_on_the_page_cannot_read_the_session_cookie(page):
    assert settings.SESSION_COOKIE_NAME not in page.evaluate("document.cookie")


def test_the_experiment_runs_from_its_button_and_shows_the_access_token_still_alive(page):
    page.click("text=Run the revocation experiment")
    page.wait_for_selector("[data-testid=experiment]")
    access_row = page.locator('tr[data-credential="access token"]')
    assert "still works" in access_row.inner_text()
    assert COUNTDOWN.match(access_row.locator("[data-testid=usable-for]").inner_text())
    session_row = page.locator('tr[data-credential="session cookie"]')
    assert "refused" in session_row.inner_text()
