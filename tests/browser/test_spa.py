"""
The browser client at /app/, driven in Debian's Chromium through Playwright against the
live server: signing in, where the tokens are (and are not) kept, the cart, the refresh
on 401, checkout, and the storefront showing the same cart and orders.
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.support.factories import ProductFactory, UserFactory
from tests.support.webclient import EMAIL, Client, storefront_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Every own enumerable global of the page whose value is a string, to show the tokens are
# not lying around as globals either.
STRING_GLOBALS = """
() => Object.keys(window)
  .map(name => { try { return window[name]; } catch { return null; } })
  .filter(value => typeof value === "string")
"""


@pytest.fixture
def catalog(live_server):
    return {
        "kettle": ProductFactory(name="Blue Kettle", price=Decimal("12.50"), stock=5),
        "teapot": ProductFactory(name="Red Teapot", price=Decimal("20.00"), stock=5),
    }


@pytest.fixture
def shopper(catalog, password):
    return UserFactory(email=EMAIL, password=password)


@pytest.fixture
def client_tab(browser, live_server, shopper):
    tab = Client(browser, live_server)
    yield tab.open()
    tab.context.close()


@pytest.fixture
def other_device(browser, live_server, shopper):
    tab = Client(browser, live_server)
    yield tab.open()
    tab.context.close()


@pytest.fixture
def storefront(browser, live_server, shopper, password):
    """Another browser, signed in to the storefront (a session) as the same user."""
    context, page = storefront_sign_in(browser, live_server.url, password)
    yield page
    context.close()


def test_tokens_are_kept_in_page_memory_only(client_tab, password):
    client_tab.sign_in(password)
    page = client_tab.page

    (pair,) = client_tab.token_pairs
    tokens = [pair["access"], pair["refresh"]]
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("sessionStorage.length") == 0
    cookies = page.evaluate("document.cookie")
    assert not any(token in cookies for token in tokens)
    assert not any(token in value for value in page.evaluate(STRING_GLOBALS) for token in tokens)
    # The only cookie is Django's CSRF token, which the page sets for the cookie pattern.
    assert [cookie["name"] for cookie in client_tab.context.cookies()] == ["csrftoken"]


def test_signing_in_shows_who_and_the_access_token_countdown(client_tab, password):
    client_tab.sign_in(password)

    assert client_tab.page.locator("#who").inner_text() == EMAIL
    assert re.fullmatch(
        r"Access token expires in \d+:\d\d", client_tab.page.locator("#token-clock").inner_text()
    )


def test_a_wrong_password_is_refused_with_the_servers_message(client_tab):
    client_tab.page.get_by_label("Email").fill(EMAIL)
    client_tab.page.get_by_label("Password").fill("not-the-password")
    client_tab.page.get_by_role("button", name="Sign in").click()

    alert = client_tab.page.get_by_role("alert")
    alert.filter(has_text="correct email and password").wait_for()
    assert client_tab.page.get_by_role("heading", name="Sign in to the API").is_visible()


def test_reloading_the_page_means_signing_in_again(client_tab, password):
    client_tab.sign_in(password)

    client_tab.page.reload()
    client_tab.page.wait_for_selector("body[data-ready=true]")

    assert client_tab.page.get_by_role("heading", name="Sign in to the API").is_visible()
    assert not client_tab.page.get_by_role("heading", name="Products").is_visible()


def test_searching_narrows_the_products(client_tab, password):
    client_tab.sign_in(password)
    page = client_tab.page

    page.get_by_label("Search products").fill("teapot")
    page.get_by_role("button", name="Search").click()
    page.get_by_text("Page 1 · 1 product").wait_for()

    assert page.locator("#products-body th").all_inner_texts() == ["Red Teapot"]


def test_an_expired_access_token_is_refreshed_once_and_the_request_retried(
    short_lived_access, client_tab, password
):
    client_tab.sign_in(password)
    client_tab.wait_for_access_expiry()

    client_tab.add_to_cart("Blue Kettle", 2)

    assert client_tab.calls("POST", "/api/cart/items/") == [401, 201]
    assert client_tab.calls("POST", "/api/auth/token/refresh/") == [200]
    assert client_tab.page.locator("#cart-count").inner_text() == "2"


def test_the_client_returns_to_sign_in_when_the_refresh_is_refused(
    short_lived_access, client_tab, other_device, password
):
    client_tab.sign_in(password)
    other_device.sign_in(password)
    other_device.page.get_by_role("button", name="Sign out of every API sign-in").click()
    other_device.page.get_by_role("heading", name="Sign in to the API").wait_for()
    client_tab.wait_for_access_expiry()

    client_tab.tab("Cart").click()

    client_tab.page.get_by_role("heading", name="Sign in to the API").wait_for()
    assert client_tab.calls("POST", "/api/auth/token/refresh/") == [401]
    assert "sign in again" in client_tab.page.get_by_role("alert").inner_text()


def test_the_cart_filled_in_the_client_is_the_storefronts_cart(client_tab, storefront, password):
    client_tab.sign_in(password)
    client_tab.add_to_cart("Red Teapot", 3)

    storefront.goto(client_tab.base_url + reverse("shop:cart"))

    assert storefront.get_by_role("row", name=re.compile("Red Teapot")).is_visible()
    assert storefront.get_by_test_id("cart-total").inner_text() == "$60.00"


def test_an_order_placed_in_the_client_is_in_the_storefronts_order_history(
    client_tab, storefront, password
):
    client_tab.sign_in(password)
    client_tab.add_to_cart("Blue Kettle")
    order = client_tab.place_order()

    storefront.goto(client_tab.base_url + reverse("shop:order_list"))

    assert storefront.get_by_role("link", name=order).is_visible()


def test_each_checkout_sends_an_idempotency_key_of_its_own(client_tab, password):
    client_tab.sign_in(password)
    client_tab.add_to_cart("Blue Kettle")
    client_tab.place_order()
    client_tab.tab("Products").click()
    client_tab.add_to_cart("Red Teapot")
    client_tab.place_order()

    keys = [
        headers.get("idempotency-key")
        for method, path, _, headers in client_tab.exchanges
        if (method, path) == ("POST", "/api/orders/")
    ]
    assert len(keys) == 2
    assert all(re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", key) for key in keys)
    assert keys[0] != keys[1]


def test_every_screen_works_under_the_content_security_policy(client_tab, password):
    client_tab.sign_in(password)
    client_tab.add_to_cart("Blue Kettle")
    client_tab.tab("Cart").click()
    client_tab.page.get_by_role("heading", name="Your cart").wait_for()
    client_tab.place_order()

    assert client_tab.csp_violations == []


def test_a_refused_sign_in_shows_the_servers_message_once(client_tab):
    client_tab.page.get_by_label("Email").fill(EMAIL)
    client_tab.page.get_by_label("Password").fill("not-the-password")
    client_tab.page.get_by_role("button", name="Sign in").click()

    alert = client_tab.page.locator("#signin-error")
    alert.filter(has_text="correct email and password").wait_for()
    assert alert.inner_text().count("correct email and password") == 1


def test_a_refused_cart_change_shows_each_message_once(client_tab, password):
    client_tab.sign_in(password)
    page = client_tab.page

    page.get_by_label("Quantity of Blue Kettle").fill("6")  # one more than in stock
    with page.expect_response(lambda response: response.url.endswith("/cart/items/")) as sent:
        page.get_by_role("button", name="Add Blue Kettle to cart").click()
    refusal = sent.value.json()

    status = page.locator("#status.error")
    status.wait_for()
    assert refusal["errors"]["quantity"] == [refusal["detail"]]
    assert status.inner_text().count(refusal["detail"]) == 1


@pytest.fixture
def two_pages_of_products(catalog):
    """Enough products for the API's second page (20 a page): 21 with the catalog's two."""
    return ProductFactory.create_batch(19)


def test_the_cart_count_is_zero_once_the_order_is_placed(client_tab, password):
    from playwright.sync_api import expect

    client_tab.sign_in(password)
    client_tab.add_to_cart("Blue Kettle", 2)
    assert client_tab.page.locator("#cart-count").inner_text() == "2"

    client_tab.place_order()

    expect(client_tab.page.locator("#cart-count")).to_have_text("0")


def test_signing_in_counts_the_cart_the_server_already_holds(
    client_tab, shopper, catalog, password
):
    from playwright.sync_api import expect

    from shop.services import cart_add_item, cart_get_or_create_for_user

    cart = cart_get_or_create_for_user(user=shopper)
    cart_add_item(cart=cart, product=catalog["teapot"], quantity=3)

    client_tab.sign_in(password)

    expect(client_tab.page.locator("#cart-count")).to_have_text("3")


DISABLED_LOOK = "el => [getComputedStyle(el).opacity, getComputedStyle(el).cursor]"


def test_the_page_buttons_are_disabled_and_look_it_at_either_end(
    two_pages_of_products, client_tab, password
):
    client_tab.sign_in(password)
    page = client_tab.page
    previous = page.get_by_role("button", name="Previous")
    following = page.get_by_role("button", name="Next")
    page.get_by_text("Page 1 · 21 products").wait_for()

    assert previous.is_disabled()
    assert following.is_enabled()
    assert previous.evaluate(DISABLED_LOOK) != following.evaluate(DISABLED_LOOK)

    following.click()
    page.get_by_text("Page 2 · 21 products").wait_for()

    assert following.is_disabled()
    assert previous.is_enabled()
    assert following.evaluate(DISABLED_LOOK) != previous.evaluate(DISABLED_LOOK)


@pytest.fixture
def far_from_utc_tab(browser, live_server, shopper):
    """A tab on the client in a browser set to UTC+14, where the calendar day differs."""
    tab = Client(browser, live_server, timezone_id="Pacific/Kiritimati")
    yield tab.open()
    tab.context.close()


def test_an_order_shows_the_same_date_in_the_client_and_the_storefront(
    far_from_utc_tab, storefront, password
):
    # The site's time zone, as on the storefront, not the browser's.
    client_tab = far_from_utc_tab
    client_tab.sign_in(password)
    client_tab.add_to_cart("Blue Kettle")
    order = client_tab.place_order()
    in_client = client_tab.page.locator("#orders-body tr").first.locator("time").inner_text()

    storefront.goto(client_tab.base_url + reverse("shop:order_list"))
    row = storefront.get_by_role("row", name=re.compile(re.escape(order)))

    assert row.locator("time").inner_text() == in_client
