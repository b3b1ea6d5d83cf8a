"""
Driving the browser client at /app/ in Debian's Chromium through Playwright: the browser
for a module of tests, and one tab on the client with the API traffic it has seen.
"""

import re
from contextlib import contextmanager

import pytest
from django.urls import reverse

from tests.support.services import CHROMIUM, CHROMIUM_ARGS

EMAIL = "kim@example.com"

ACCESS_LIFETIME_SECONDS = 2


@contextmanager
def chromium():
    """Yield one launched Chromium; close it (and Playwright) on the way out."""
    from playwright.sync_api import sync_playwright

    # Django refuses database calls in a thread where an asyncio event loop is running (a
    # guard for async views). Playwright's sync API keeps such a loop in this thread for as
    # long as the browser lives but runs no Django code on it, so here the guard would only
    # stop the tests' own fixtures: lift it while the browser is up.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def storefront_sign_in(browser, base_url: str, password: str, email: str = EMAIL):
    """Open a fresh context signed in to the storefront (a session); return (context, page)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(base_url + reverse("accounts:login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return context, page


class Client:
    """One browser tab on the client, with the API traffic it has seen."""

    def __init__(self, browser, live_server, **context_options):
        self.context = browser.new_context(**context_options)
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.base_url = live_server.url
        self.exchanges = []  # (method, path, status, request headers)
        self.token_pairs = []
        self.csp_violations = []
        self.page.on("response", self._record)
        self.page.on("console", self._console)

    def _record(self, response):
        path = response.url.removeprefix(self.base_url)
        request = response.request
        self.exchanges.append((request.method, path, response.status, request.headers))

    def _console(self, message):
        if "Content Security Policy" in message.text or "Trusted Type" in message.text:
            self.csp_violations.append(message.text)

    def calls(self, method, path):
        return [status for m, p, status, _ in self.exchanges if m == method and p == path]

    def open(self):
        self.page.goto(self.base_url + reverse("webclient:app"))
        self.page.wait_for_selector("body[data-ready=true]")
        return self

    def reload(self):
        self.page.reload()
        self.page.wait_for_selector("body[data-ready=true]")
        return self

    def signed_in(self) -> bool:
        """Whether the page shows the shop (signed in) rather than the sign-in form."""
        return self.page.locator("#shop-view").is_visible()

    def sign_in(self, password, email=EMAIL, pattern=None):
        """Sign in; ``pattern`` is the label of the place to keep the tokens, if not the default."""
        if pattern:
            self.page.get_by_label(pattern).check()
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        with self.page.expect_response(lambda response: response.url.endswith("/token/")) as sent:
            self.page.get_by_role("button", name="Sign in").click()
        self.token_pairs.append(sent.value.json())
        self.page.get_by_role("heading", name="Products").wait_for()
        return self

    def add_to_cart(self, name, quantity=1):
        self.page.get_by_label(f"Quantity of {name}").fill(str(quantity))
        self.page.get_by_role("button", name=f"Add {name} to cart").click()
        self.page.get_by_role("status").filter(has_text=f"Added {quantity} × {name}").wait_for()

    def tab(self, name):
        """The client's own navigation button for a screen: Products, Cart or Orders."""
        navigation = self.page.get_by_role("navigation", name="Client")
        return navigation.get_by_role("button", name=re.compile(f"^{name}"))

    def place_order(self) -> str:
        """Check the cart out; return the new order's name as the orders screen shows it."""
        self.tab("Cart").click()
        self.page.get_by_role("button", name="Place order").click()
        self.page.get_by_role("status").filter(has_text="placed").wait_for()
        self.page.get_by_role("heading", name="Your orders").wait_for()
        return self.page.locator("#orders-body th").first.inner_text()

    def wait_for_access_expiry(self):
        self.page.locator("#token-clock[data-state=expired]").wait_for(
            timeout=(ACCESS_LIFETIME_SECONDS + 3) * 1000
        )
