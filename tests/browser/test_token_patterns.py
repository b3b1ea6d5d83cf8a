"""
The three places /app/ can keep its tokens, in Chromium: what each holds once signed in,
what a reload does, and what signing out clears. The cookie pattern's endpoints are
/api/auth/browser/*; the localStorage pattern is a demo, absent under production settings.
"""

import json

import pytest

from tests.support.factories import UserFactory
from tests.support.webclient import EMAIL, Client

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MEMORY = "Tokens in memory"
COOKIE = "Refresh token in an HttpOnly cookie"
LOCAL_STORAGE = "Tokens in localStorage"
STORAGE_KEY = "webclient.tokens"


@pytest.fixture
def shopper(live_server, password):
    return UserFactory(email=EMAIL, password=password)


@pytest.fixture
def tab(browser, live_server, shopper):
    client = Client(browser, live_server)
    yield client.open()
    client.context.close()


def refresh_cookies(tab):
    return [c for c in tab.context.cookies() if c["name"] == "browser_refresh"]


def stored_tokens(tab):
    return json.loads(tab.page.evaluate(f"localStorage.getItem({STORAGE_KEY!r})") or "null")


# --- Tokens in memory ---------------------------------------------------------------------


def test_in_memory_a_reload_signs_you_out(tab, password):
    tab.sign_in(password, pattern=MEMORY)

    tab.reload()

    assert not tab.signed_in()
    assert refresh_cookies(tab) == []
    assert stored_tokens(tab) is None


def test_in_memory_signing_out_ends_the_sign_in_on_the_server(tab, password):
    tab.sign_in(password, pattern=MEMORY)

    tab.page.get_by_role("button", name="Sign out", exact=True).click()
    tab.page.get_by_role("heading", name="Sign in to the API").wait_for()

    assert tab.calls("POST", "/api/auth/logout/") == [204]


# --- Refresh token in an HttpOnly cookie ----------------------------------------------------


def test_with_the_cookie_the_refresh_token_is_out_of_the_pages_reach(tab, password):
    tab.sign_in(password, pattern=COOKIE)

    (cookie,) = refresh_cookies(tab)
    (answer,) = tab.token_pairs
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/api/auth/browser/"
    assert "refresh" not in answer
    assert "browser_refresh" not in tab.page.evaluate("document.cookie")
    assert stored_tokens(tab) is None


def test_with_the_cookie_a_reload_signs_in_silently(tab, password):
    tab.sign_in(password, pattern=COOKIE)

    tab.reload()

    assert tab.signed_in()
    # The first load asked too, before there was a cookie: the page cannot see it is absent.
    assert tab.calls("POST", "/api/auth/browser/refresh/") == [401, 200]
    assert tab.page.locator("#who").inner_text() == EMAIL
    assert "HttpOnly cookie" in tab.page.locator("#pattern-name").inner_text()


def test_with_the_cookie_the_refresh_carries_the_csrf_token_from_the_named_cookie(tab, password):
    tab.sign_in(password, pattern=COOKIE)
    tab.reload()

    name = tab.page.locator("body").get_attribute("data-csrf-cookie-name")
    (csrf,) = [c["value"] for c in tab.context.cookies() if c["name"] == name]
    sent = [
        h["x-csrftoken"]
        for m, p, _, h in tab.exchanges
        if (m, p) == ("POST", "/api/auth/browser/refresh/")
    ]
    assert sent == [csrf, csrf]


def test_with_the_cookie_signing_out_clears_it_and_a_reload_stays_signed_out(tab, password):
    tab.sign_in(password, pattern=COOKIE)

    tab.page.get_by_role("button", name="Sign out", exact=True).click()
    tab.page.get_by_role("heading", name="Sign in to the API").wait_for()
    tab.reload()

    assert tab.calls("POST", "/api/auth/browser/logout/") == [204]
    assert refresh_cookies(tab) == []
    assert not tab.signed_in()


def test_with_the_cookie_an_expired_access_token_is_refreshed_through_it(
    short_lived_access, tab, password
):
    tab.sign_in(password, pattern=COOKIE)
    tab.wait_for_access_expiry()

    with tab.page.expect_response(lambda r: r.url.endswith("/api/cart/") and r.ok):
        tab.tab("Cart").click()

    # Sign-in counted the cart once; the expired token's call was refused, then retried.
    assert tab.calls("GET", "/api/cart/") == [200, 401, 200]
    # The first load's silent sign-in found no cookie; the expiry's refresh used it.
    assert tab.calls("POST", "/api/auth/browser/refresh/") == [401, 200]
    assert tab.calls("POST", "/api/auth/token/refresh/") == []


def test_with_the_cookie_signing_out_everywhere_clears_the_cookie_too(tab, password):
    tab.sign_in(password, pattern=COOKIE)

    tab.page.get_by_role("button", name="Sign out of every API sign-in").click()
    tab.page.get_by_role("heading", name="Sign in to the API").wait_for()
    tab.reload()

    assert tab.calls("POST", "/api/auth/logout-all/") == [204]
    assert refresh_cookies(tab) == []
    assert not tab.signed_in()


# --- Tokens in localStorage (the demo) ------------------------------------------------------


def test_in_local_storage_both_tokens_are_readable_by_any_script(tab, password):
    tab.sign_in(password, pattern=LOCAL_STORAGE)

    (pair,) = tab.token_pairs
    assert stored_tokens(tab) == {"access": pair["access"], "refresh": pair["refresh"]}


def test_in_local_storage_a_reload_keeps_you_signed_in(tab, password):
    tab.sign_in(password, pattern=LOCAL_STORAGE)

    tab.reload()

    assert tab.signed_in()
    assert tab.page.locator("#who").inner_text() == EMAIL


def test_in_local_storage_signing_out_removes_the_tokens(tab, password):
    tab.sign_in(password, pattern=LOCAL_STORAGE)

    tab.page.get_by_role("button", name="Sign out", exact=True).click()
    tab.page.get_by_role("heading", name="Sign in to the API").wait_for()
    tab.reload()

    assert stored_tokens(tab) is None
    assert tab.calls("POST", "/api/auth/logout/") == [204]
    assert not tab.signed_in()


@pytest.fixture
def production_flag(settings):
    settings.WEBCLIENT_LOCALSTORAGE_DEMO = False


def test_without_the_demo_flag_local_storage_is_not_offered(production_flag, tab):
    assert tab.page.locator("body").get_attribute("data-localstorage-demo") == "false"
    assert tab.page.get_by_label(LOCAL_STORAGE).count() == 0
    assert tab.page.get_by_label(MEMORY).is_checked()


def test_without_the_demo_flag_the_script_refuses_local_storage_and_ignores_stored_tokens(
    production_flag, tab, password
):
    tab.page.evaluate(
        f"localStorage.setItem({STORAGE_KEY!r}, JSON.stringify({{access: 'a', refresh: 'r'}}))"
    )
    tab.reload()
    refused = tab.page.evaluate(
        """async () => {
          const api = await import(document.querySelector("script[type=module]").src
            .replace("app.js", "api.js"));
          try { api.choosePattern("localstorage"); return null; } catch (e) { return e.message; }
        }"""
    )

    assert not tab.signed_in()
    assert refused == 'This page does not offer "localstorage".'
