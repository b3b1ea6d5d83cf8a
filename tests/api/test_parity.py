"""
One user, one cart, one order history, one list of sign-ins, whichever edge is used.

These tests meet the storefront at the shared core (the services and selectors its views
call); test_parity_pages.py goes through the storefront's pages themselves.
"""

from datetime import timedelta
from importlib import import_module

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import SignIn
from shop import selectors, services
from tests.support.api import bearer, claims_of
from tests.support.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(db):
    return ProductFactory(name="Field Guide")


def test_an_item_added_through_the_api_is_in_the_cart_the_storefront_reads(authed, user, product):
    authed.post(
        reverse("api:cart_item_list"), {"product": product.pk, "quantity": 2}, format="json"
    )
    lines = selectors.cart_lines(cart=selectors.cart_get_for_user(user=user))
    assert [(line.product, line.quantity) for line in lines] == [(product, 2)]


def test_an_item_added_on_the_storefront_is_in_the_api_cart(authed, user, product):
    services.cart_add_item(
        cart=services.cart_get_or_create_for_user(user=user), product=product, quantity=3
    )
    (line,) = authed.get(reverse("api:cart")).json()["lines"]
    assert (line["product"]["id"], line["quantity"]) == (product.pk, 3)


def test_an_anonymous_cart_merged_at_storefront_sign_in_shows_in_the_api(authed, user, product):
    anonymous = services.cart_create_anonymous()
    services.cart_add_item(cart=anonymous, product=product, quantity=1)
    services.cart_merge(source=anonymous, target=services.cart_get_or_create_for_user(user=user))
    assert [line["product"]["id"] for line in authed.get(reverse("api:cart")).json()["lines"]] == [
        product.pk
    ]


def test_an_order_placed_on_the_storefront_is_in_the_api_history(authed, user, product):
    cart = services.cart_get_or_create_for_user(user=user)
    services.cart_add_item(cart=cart, product=product, quantity=1)
    order = services.order_place(user=user, cart=cart)
    body = authed.get(reverse("api:order_list")).json()
    assert [o["id"] for o in body["results"]] == [order.pk]
    assert authed.get(reverse("api:order_detail", args=[order.pk])).status_code == 200


def test_an_order_placed_through_the_api_is_in_the_storefront_history(authed, user, product):
    authed.post(reverse("api:cart_item_list"), {"product": product.pk}, format="json")
    order_id = authed.post(reverse("api:order_list")).json()["id"]
    assert [order.pk for order in selectors.order_list(user=user)] == [order_id]


def test_one_idempotency_key_spans_both_edges(authed, user, product):
    cart = services.cart_get_or_create_for_user(user=user)
    services.cart_add_item(cart=cart, product=product, quantity=1)
    order = services.order_place(user=user, cart=cart, idempotency_key="checkout-7")
    retry = authed.post(reverse("api:order_list"), HTTP_IDEMPOTENCY_KEY="checkout-7")
    assert retry.json()["id"] == order.pk


def _browser_sign_in(user, settings):
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store.create()
    sign_in = account_services.sign_in_start(
        user=user,
        kind=SignIn.Kind.SESSION,
        lifetime=timedelta(hours=1),
        session_key=store.session_key,
    )
    return store, sign_in


def test_a_browser_session_revoked_through_the_api_is_gone_from_the_store(
    authed, user, settings, session_store
):
    store, sign_in = _browser_sign_in(user, settings)
    assert authed.delete(reverse("api:sign_in_detail", args=[sign_in.pk])).status_code == 204
    assert not store.exists(store.session_key)


def test_a_token_sign_in_is_in_the_list_the_devices_page_reads(pair, user):
    (sign_in,) = account_selectors.user_sign_ins_live(user=user)
    assert str(sign_in.pk) == claims_of(pair["refresh"])["sid"]
    assert sign_in.kind == SignIn.Kind.TOKEN


def test_a_token_sign_in_revoked_from_the_devices_page_cannot_refresh(api, pair, user):
    # What the devices page does: pick the sign-in from the live list and end it.
    (sign_in,) = account_selectors.user_sign_ins_live(user=user)
    account_services.sign_in_end(sign_in=sign_in, reason=SignIn.EndReason.REVOKED)
    response = api.post(reverse("api:token_refresh"), {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 401


def test_an_expired_token_sign_in_drops_out_of_both_lists(api, pair, user):
    SignIn.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    # The access token itself lives until its own exp; the sign-in list no longer shows it.
    assert api.get(reverse("api:sign_in_list"), **bearer(pair["access"])).json() == []
    assert account_selectors.user_sign_ins_live(user=user) == []
    assert SignIn.objects.get(user=user).end_reason == SignIn.EndReason.EXPIRED
