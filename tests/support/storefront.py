"""
Helpers for storefront tests: sign in through the real login view, inspect and age the
session, fill the cart and check out through the HTML forms.
"""

from importlib import import_module

from django.conf import settings
from django.urls import reverse

from accounts.sessions import SIGN_IN_STATE_KEY
from fastpath.sessions import SNAPSHOT_KEY

FIREFOX_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def sign_in(client, user, password, *, remember=False, user_agent=FIREFOX_ON_LINUX, **extra):
    """Post the login form as a browser would; return the response."""
    data = {"username": user.email, "password": password}
    if remember:
        data["remember_me"] = "on"
    data.update(extra.pop("data", {}))
    return client.post(reverse("accounts:login"), data, HTTP_USER_AGENT=user_agent, **extra)


def session_key(client) -> str | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie and cookie.value else None


def session_exists(key: str | None) -> bool:
    """Whether the session store (database or Redis, as configured) still holds the key."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return bool(key) and store().exists(key)


def age_session(client, *, since_activity: int = 0, since_sign_in: int = 0) -> None:
    """Move the session's recorded activity and sign-in time this many seconds back."""
    session = client.session
    state = dict(session[SIGN_IN_STATE_KEY])
    state["seen"] -= since_activity
    state["at"] -= since_sign_in
    session[SIGN_IN_STATE_KEY] = state
    if SNAPSHOT_KEY in session:
        # The fast path's snapshot of the user row is as old as the last activity.
        session[SNAPSHOT_KEY] = {**session[SNAPSHOT_KEY], "at": state["seen"]}
    session.save()
    # A signed-cookie session's key is its content: the browser must get the new cookie.
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key


def me(client):
    return client.get(reverse("accounts:me"))


def add_to_cart(client, product, quantity=1):
    """Post the product page's add-to-cart form."""
    return client.post(
        reverse("shop:product_detail", kwargs={"slug": product.slug}), {"quantity": quantity}
    )


def place_order(client, key):
    """Post the checkout form with idempotency key ``key``."""
    return client.post(reverse("shop:checkout"), {"idempotency_key": key})
