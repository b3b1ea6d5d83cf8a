"""
Redis outage: the site's cache and sessions live in a redis-server of the test's own
(``private_redis``), which the test stops and starts; the shared Redis is never touched.

While Redis is down: signing in and every private storefront page answer the site's 503
page (``Retry-After``, nothing private, nobody treated as signed in); the catalog and
product pages keep working, signed out; the API keeps serving with tokens in stateless
mode, and refuses (503) whatever needs Redis. When Redis comes back the same site, not
restarted, serves again. No order or cart line in the database is lost.
"""

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import SignIn, User
from shop.models import Cart, CartLine, Order, OrderLine, Product
from tests.support.storefront import add_to_cart, place_order, sign_in

pytestmark = [pytest.mark.redis, pytest.mark.django_db, pytest.mark.both_paths]


def assert_friendly_503(response):
    """The site's own 503 page: retry later, nothing about anyone, never cached."""
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert "Temporarily unavailable" in body
    assert "Traceback" not in body
    assert "Signed in as" not in body


def assert_json_503(response):
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"].isdigit()
    assert response.json()["code"] == "service_unavailable"


def session_cookie_deleted(response) -> bool:
    cookie = response.cookies.get(django_settings.SESSION_COOKIE_NAME)
    return cookie is not None and cookie.value == ""


# --- Private storefront pages -------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    [
        "shop:order_list",
        "shop:checkout",
        "shop:cart",
        "accounts:devices",
        "accounts:password_change",
        "accounts:login",
        "accounts:signup",
    ],
)
def test_private_pages_answer_a_friendly_503_while_redis_is_down(signed_in, redis_server, page):
    redis_server.stop()
    assert_friendly_503(signed_in.get(reverse(page)))


def test_the_session_twin_of_api_me_answers_503_json(signed_in, redis_server):
    redis_server.stop()
    assert_json_503(signed_in.get(reverse("accounts:me")))


def test_signing_in_answers_503_and_records_no_sign_in(client, shopper, password, redis_server):
    redis_server.stop()
    assert_friendly_503(sign_in(client, shopper, password))
    assert not SignIn.objects.exists()


def test_signing_up_answers_503_and_creates_no_account(client, redis_server):
    redis_server.stop()
    response = client.post(
        reverse("accounts:signup"),
        {
            "email": "newcomer@example.com",
            "password": "a-long-enough-passphrase",
            "password_confirm": "a-long-enough-passphrase",
        },
    )
    assert_friendly_503(response)
    assert not User.objects.filter(email="newcomer@example.com").exists()


def test_signing_out_answers_503_while_redis_is_down(signed_in, redis_server):
    redis_server.stop()
    assert_friendly_503(signed_in.post(reverse("accounts:logout")))


def test_adding_to_the_cart_signed_in_answers_503_and_writes_nothing(
    signed_in, product, redis_server
):
    redis_server.stop()
    assert_friendly_503(add_to_cart(signed_in, product))
    assert not CartLine.objects.exists()


def test_adding_to_the_cart_without_a_session_answers_503_and_creates_no_cart(
    client, product, redis_server
):
    redis_server.stop()
    assert_friendly_503(add_to_cart(client, product))
    assert not Cart.objects.exists()


def test_checkout_answers_503_and_places_no_order(signed_in, product, redis_server):
    assert add_to_cart(signed_in, product, 2).status_code == 302
    redis_server.stop()
    assert_friendly_503(place_order(signed_in, "outage-1"))
    assert not Order.objects.exists()
    assert CartLine.objects.get().quantity == 2
    assert Product.objects.get(pk=product.pk).stock == 10


# --- Public pages -------------------------------------------------------------------------


def test_the_catalog_renders_signed_out_while_redis_is_down(signed_in, shopper, redis_server):
    redis_server.stop()
    response = signed_in.get(reverse("shop:catalog"))
    assert response.status_code == 200
    assert "Not signed in" in response.content.decode()
    assert shopper.email not in response.content.decode()


def test_a_product_page_renders_signed_out_while_redis_is_down(
    signed_in, shopper, product, redis_server
):
    redis_server.stop()
    response = signed_in.get(reverse("shop:product_detail", kwargs={"slug": product.slug}))
    assert response.status_code == 200
    assert product.name in response.content.decode()
    assert shopper.email not in response.content.decode()


def test_public_pages_keep_the_session_cookie_while_redis_is_down(signed_in, redis_server):
    # Deleting the cookie would sign the visitor out for good over a blip of the store.
    redis_server.stop()
    assert not session_cookie_deleted(signed_in.get(reverse("shop:catalog")))


def test_a_visitor_without_a_session_browses_as_usual(client, product, redis_server):
    redis_server.stop()
    assert client.get(reverse("shop:catalog")).status_code == 200
    assert client.get(reverse("shop:healthz")).json() == {"status": "ok"}


def test_a_visitor_without_a_session_sees_an_empty_cart(client, redis_server):
    # Without a session cookie there is no cart to look up: empty is the truth. A visitor
    # whose cart is in a session gets the 503 (their cart cannot be found right now).
    redis_server.stop()
    response = client.get(reverse("shop:cart"))
    assert response.status_code == 200
    assert "Your cart is empty" in response.content.decode()


def test_an_anonymous_cart_in_the_session_answers_503(client, product, redis_server):
    assert add_to_cart(client, product).status_code == 302
    redis_server.stop()
    assert_friendly_503(client.get(reverse("shop:cart")))


# --- The API ------------------------------------------------------------------------------


def test_the_stateless_api_keeps_serving_while_redis_is_down(
    api, shopper, product, redis_server, settings
):
    settings.JWT_USER_LOOKUP = "stateless"
    redis_server.stop()
    assert api.get(reverse("api:me")).json() == {"id": shopper.pk, "email": shopper.email}
    assert api.get(reverse("api:product_list")).status_code == 200
    assert api.get(reverse("api:product_detail", kwargs={"pk": product.pk})).status_code == 200


def test_api_cart_and_checkout_need_no_redis(api, product, redis_server):
    redis_server.stop()
    response = api.post(
        reverse("api:cart_item_list"), {"product": product.pk, "quantity": 2}, format="json"
    )
    assert response.status_code == 201, response.content
    response = api.post(reverse("api:order_list"), HTTP_IDEMPOTENCY_KEY="api-during-outage")
    assert response.status_code == 201, response.content
    assert Product.objects.get(pk=product.pk).stock == 8


def test_the_api_with_the_access_denylist_fails_closed(api, redis_server, settings):
    # The denylist cannot be read, so a revoked token cannot be told from a live one.
    settings.JWT_ACCESS_DENYLIST = True
    redis_server.stop()
    assert_json_503(api.get(reverse("api:me")))


def test_token_sign_in_answers_503_while_the_lockout_cannot_be_checked(
    shopper, password, redis_server
):
    redis_server.stop()
    response = APIClient().post(
        reverse("api:token_obtain"),
        {"email": shopper.email, "password": password},
        format="json",
    )
    assert_json_503(response)
    assert not SignIn.objects.exists()


def test_refreshing_a_token_needs_no_redis(shopper, password, redis_server):
    pair = (
        APIClient()
        .post(
            reverse("api:token_obtain"),
            {"email": shopper.email, "password": password},
            format="json",
        )
        .json()
    )
    redis_server.stop()
    response = APIClient().post(
        reverse("api:token_refresh"), {"refresh": pair["refresh"]}, format="json"
    )
    assert response.status_code == 200


# --- Sessions kept elsewhere --------------------------------------------------------------


@pytest.mark.parametrize("engine", ["db", "signed_cookies"])
def test_sessions_kept_outside_redis_keep_working_while_redis_is_down(
    client, shopper, password, redis_server, settings, engine
):
    settings.SESSION_ENGINE = settings.SESSION_ENGINES[engine]
    assert sign_in(client, shopper, password).status_code == 302
    redis_server.stop()
    assert client.get(reverse("shop:order_list")).status_code == 200
    assert client.get(reverse("accounts:me")).json()["email"] == shopper.email


@pytest.mark.parametrize("engine", ["db", "signed_cookies"])
def test_signing_in_answers_503_with_sessions_kept_outside_redis(
    client, shopper, password, redis_server, settings, engine
):
    # The lockout counters live in Redis: without them a brute force could not be stopped.
    settings.SESSION_ENGINE = settings.SESSION_ENGINES[engine]
    redis_server.stop()
    assert_friendly_503(sign_in(client, shopper, password))
    assert not SignIn.objects.exists()


# --- Recovery -----------------------------------------------------------------------------


def test_the_site_recovers_when_redis_comes_back_without_a_restart(
    signed_in, shopper, password, redis_server
):
    redis_server.stop()
    assert_friendly_503(signed_in.get(reverse("shop:order_list")))
    redis_server.start()
    # The private server saves nothing (--save ""), so the session did not survive the
    # restart: the browser is signed out, and signing in again works at once.
    response = signed_in.get(reverse("shop:order_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert sign_in(signed_in, shopper, password).status_code == 302
    assert signed_in.get(reverse("shop:order_list")).status_code == 200


def _rows():
    """Every order, order line and cart line, as plain values."""
    return {
        "orders": list(Order.objects.order_by("pk").values_list("pk", "user_id", "total")),
        "order lines": list(
            OrderLine.objects.order_by("pk").values_list(
                "order_id", "product_id", "quantity", "unit_price"
            )
        ),
        "cart lines": list(
            CartLine.objects.order_by("pk").values_list("cart_id", "product_id", "quantity")
        ),
        "stock": list(Product.objects.order_by("pk").values_list("pk", "stock")),
    }


@pytest.mark.django_db(transaction=True)
def test_no_order_or_cart_line_is_lost_across_an_outage(client, shopper, password, redis_server):
    # Committed for real (no test transaction around it), on SQLite or PostgreSQL alike.
    from tests.support.factories import ProductFactory

    bought, kept = ProductFactory(stock=10), ProductFactory(stock=10)
    assert sign_in(client, shopper, password).status_code == 302
    assert add_to_cart(client, bought, 3).status_code == 302
    assert place_order(client, "before-outage").status_code == 302
    assert add_to_cart(client, kept, 2).status_code == 302
    before = _rows()
    assert len(before["orders"]) == 1
    assert len(before["cart lines"]) == 1

    redis_server.stop()
    assert_friendly_503(add_to_cart(client, kept, 1))
    assert_friendly_503(place_order(client, "during-outage"))
    update = reverse("shop:cart_update", kwargs={"product_id": kept.pk})
    assert_friendly_503(client.post(update, {f"line-{kept.pk}-quantity": 5}))
    assert_friendly_503(client.post(reverse("accounts:logout")))
    redis_server.start()

    connection.close()  # Read back through a new connection: what is there was committed.
    assert _rows() == before
    # The cart kept through the outage can still be bought.
    assert sign_in(client, shopper, password).status_code == 302
    assert place_order(client, "after-outage").status_code == 302
    assert Order.objects.count() == 2
    assert not CartLine.objects.exists()


@pytest.mark.django_db(transaction=True)  # The denylist is written once the sign-out commits.
def test_a_redis_restarted_empty_forgets_the_denylist_until_the_tokens_expire(
    redis_server, settings, shopper, password
):
    # A limit, not a wish: the denylist lives in Redis only. With a Redis that persists
    # nothing, a restart brings a signed-out sign-in's access tokens back until their exp
    # (JWT_ACCESS_LIFETIME_SECONDS, 5 minutes by default). Its refresh tokens stay dead.
    settings.JWT_ACCESS_DENYLIST = True
    client = APIClient()
    pair = client.post(
        reverse("api:token_obtain"), {"email": shopper.email, "password": password}, format="json"
    ).json()
    assert (
        client.post(reverse("api:logout"), {"refresh": pair["refresh"]}, format="json").status_code
        == 204
    )
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {pair['access']}"}
    assert client.get(reverse("api:me"), **bearer).status_code == 401
    redis_server.stop()
    redis_server.start()
    assert client.get(reverse("api:me"), **bearer).status_code == 200
    refreshed = client.post(
        reverse("api:token_refresh"), {"refresh": pair["refresh"]}, format="json"
    )
    assert refreshed.status_code == 401
