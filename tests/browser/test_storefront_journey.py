"""
A shopper's journey in a real browser (Debian's Chromium, headless, driven by Playwright)
against the live server: browse signed out, fill a cart, sign in, keep the cart, check out,
find the order, sign out, and press Back without seeing private data again.
"""

from decimal import Decimal

import pytest
from django.conf import settings

from tests.support.factories import ProductFactory, UserFactory
from tests.support.services import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# Every form that posts must carry Django's CSRF token; evaluated on each page visited.
POST_FORMS_WITHOUT_CSRF = """
() => Array.from(document.querySelectorAll('form'))
  .filter(form => (form.getAttribute('method') || 'get').toLowerCase() === 'post')
  .filter(form => !form.querySelector('input[name="csrfmiddlewaretoken"]'))
  .map(form => form.getAttribute('action') || location.pathname)
"""


@pytest.fixture
def shopper(live_server, password):
    """The catalog and the account, created before the browser starts (see browser_page)."""
    ProductFactory(name="Field Lantern", slug="field-lantern", price=Decimal("19.50"), stock=4)
    return UserFactory(email="walker@example.com", password=password)


@pytest.fixture
def browser_page(shopper):
    # Playwright's sync API runs an event loop in this thread, where Django refuses
    # database calls: everything the test needs from the database is made before this.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_shopping_signing_in_checking_out_and_signing_out(
    live_server, shopper, browser_page, password
):
    page = browser_page
    visited_post_forms_without_csrf = []

    def check_forms():
        visited_post_forms_without_csrf.extend(page.evaluate(POST_FORMS_WITHOUT_CSRF))

    # Browse signed out and add to the cart.
    page.goto(live_server.url + "/")
    check_forms()
    assert page.get_by_text("Not signed in").is_visible()
    page.get_by_role("link", name="Field Lantern").click()
    check_forms()
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url("**/cart/")
    check_forms()
    assert page.get_by_test_id("cart-total").inner_text() == "$39.00"

    # Checking out asks to sign in; the cart comes along.
    page.get_by_role("link", name="Check out").click()
    page.wait_for_url("**/accounts/login/?next=/checkout/")
    check_forms()
    page.get_by_label("Email").fill(shopper.email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/checkout/")
    check_forms()
    assert page.get_by_test_id("signed-in-as").inner_text() == shopper.email
    assert page.get_by_role("row", name="Field Lantern").is_visible()

    # The session cookie, as the browser sees it: HttpOnly, SameSite=Lax, hidden from JS.
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    session_cookie = cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie["httpOnly"] is True
    assert session_cookie["sameSite"] == "Lax"
    assert settings.SESSION_COOKIE_NAME not in page.evaluate("document.cookie")

    # Place the order and find it in the order list.
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url("**/checkout/done/*/")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert "is placed" in heading
    order_number = heading.split("#")[1].split()[0]
    with page.expect_response(lambda response: response.url.endswith("/orders/")) as orders:
        page.get_by_role("link", name="All your orders").click()
    page.wait_for_url("**/orders/")
    assert "no-store" in orders.value.headers["cache-control"]
    check_forms()
    assert page.get_by_role("link", name=f"Order #{order_number}").is_visible()

    # Sign out; Back must not show the orders page from the browser's cache.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_text("Not signed in").is_visible()
    page.go_back()
    page.wait_for_load_state()
    body = page.locator("body").inner_text()
    assert f"Order #{order_number}" not in body
    assert shopper.email not in body
    assert "Not signed in" in body

    assert visited_post_forms_without_csrf == []
