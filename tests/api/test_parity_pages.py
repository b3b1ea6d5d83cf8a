"""
Parity through the storefront's pages: the same user in a browser (session) and in an API
client (bearer token), one cart, one order history, one list of sign-ins, revocable from
either side.
"""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import SignIn
from shop.models import Order
from tests.support.api import bearer, claims_of
from tests.support.factories import ProductFactory
from tests.support.storefront import me as storefront_me
from tests.support.storefront import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(user, password):
    """The user, signed in on the storefront through the real login form."""
    client = Client()
    assert sign_in(client, user, password).status_code == 302
    return client


@pytest.fixture
def product(db):
    return ProductFactory(name="Cast-Iron Pan")


def refresh(api, token):
    return api.post(reverse("api:token_refresh"), {"refresh": token}, format="json")


def test_an_item_added_through_the_api_shows_on_the_cart_page(authed, browser, product):
    authed.post(
        reverse("api:cart_item_list"), {"product": product.pk, "quantity": 2}, format="json"
    )
    rows = browser.get(reverse("shop:cart")).context["rows"]
    assert [(row["line"].product, row["line"].quantity) for row in rows] == [(product, 2)]


def test_an_item_added_on_the_product_page_shows_in_the_api_cart(authed, browser, product):
    browser.post(reverse("shop:product_detail", args=[product.slug]), {"quantity": 3})
    (line,) = authed.get(reverse("api:cart")).json()["lines"]
    assert (line["product"]["id"], line["quantity"]) == (product.pk, 3)


def test_a_quantity_changed_on_the_cart_page_shows_in_the_api(authed, browser, product):
    authed.post(reverse("api:cart_item_list"), {"product": product.pk}, format="json")
    browser.post(reverse("shop:cart_update", args=[product.pk]), {f"line-{product.pk}-quantity": 5})
    assert authed.get(reverse("api:cart")).json()["lines"][0]["quantity"] == 5


def test_an_order_placed_through_the_api_is_on_the_orders_page(authed, browser, product):
    authed.post(reverse("api:cart_item_list"), {"product": product.pk}, format="json")
    order_id = authed.post(reverse("api:order_list")).json()["id"]
    page = browser.get(reverse("shop:order_list")).context["page"]
    assert [order.pk for order in page] == [order_id]
    assert browser.get(reverse("shop:order_detail", args=[order_id])).status_code == 200


def test_an_order_placed_at_the_storefront_checkout_is_in_the_api_history(
    authed, browser, product, user
):
    browser.post(reverse("shop:product_detail", args=[product.slug]), {"quantity": 1})
    response = browser.post(reverse("shop:checkout"), {"idempotency_key": "browser-click"})
    assert response.status_code == 302
    order = Order.objects.get(user=user)
    assert [o["id"] for o in authed.get(reverse("api:order_list")).json()["results"]] == [order.pk]


def test_the_devices_page_lists_the_api_sign_in(pair, browser):
    devices = browser.get(reverse("accounts:devices")).context["devices"]
    kinds = {str(device.sign_in.pk): device.sign_in.kind for device in devices}
    assert kinds[claims_of(pair["refresh"])["sid"]] == SignIn.Kind.TOKEN
    assert SignIn.Kind.SESSION in kinds.values()


def test_the_api_lists_the_browser_session(authed, browser):
    kinds = [row["kind"] for row in authed.get(reverse("api:sign_in_list")).json()]
    assert sorted(kinds) == ["session", "token"]


def test_revoking_the_api_sign_in_on_the_devices_page_kills_its_refresh_token(api, pair, browser):
    sid = claims_of(pair["refresh"])["sid"]
    response = browser.post(reverse("accounts:device_revoke", args=[sid]))
    assert response.status_code == 302
    assert refresh(api, pair["refresh"]).status_code == 401


def test_revoking_the_browser_session_through_the_api_signs_the_browser_out(authed, browser, user):
    session = SignIn.objects.get(user=user, kind=SignIn.Kind.SESSION)
    assert authed.delete(reverse("api:sign_in_detail", args=[session.pk])).status_code == 204
    assert storefront_me(browser).status_code == 401


def test_a_password_change_on_the_storefront_ends_the_api_tokens(api, pair, browser, password):
    response = browser.post(
        reverse("accounts:password_change"),
        {
            "old_password": password,
            "new_password1": "a-brand-new-passphrase",
            "new_password2": "a-brand-new-passphrase",
        },
    )
    assert response.status_code == 302
    assert api.get(reverse("api:me"), **bearer(pair["access"])).status_code == 401
    assert refresh(api, pair["refresh"]).status_code == 401
    assert storefront_me(browser).status_code == 200


def test_a_password_change_through_the_api_signs_the_browser_out(api, pair, browser, password):
    api.post(
        reverse("api:password_change"),
        {"old_password": password, "new_password": "a-brand-new-passphrase"},
        format="json",
        **bearer(pair["access"]),
    )
    assert storefront_me(browser).status_code == 401


def test_the_admin_sign_out_everywhere_action_ends_the_user_s_api_tokens(
    api, pair, user, admin_client
):
    response = admin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "sign_out_everywhere", "_selected_action": [user.pk]},
    )
    assert response.status_code == 302
    assert refresh(api, pair["refresh"]).status_code == 401
