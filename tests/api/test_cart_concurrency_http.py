"""
Concurrent requests through the API's HTTP edge, on a live server over PostgreSQL: the
same races as tests/shop/test_*_concurrency.py, seen as status codes a client gets.
"""

import pytest
from django.urls import reverse

from shop.models import CartLine, Order, Product
from tests.support.api import json_request
from tests.support.factories import ProductFactory, UserFactory
from tests.support.threads import repeat, run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5


def _post(url: str, body: dict | None = None, *, token: str | None = None):
    """POST JSON; return (status, decoded JSON body, or the text when it is not JSON)."""
    return json_request("POST", url, body or {}, token=token)


@pytest.fixture
def signed_in(live_server, password):
    """Return a function that makes a user and signs them in over HTTP: (user, token)."""

    def sign_in():
        user = UserFactory(password=password)
        status, body = _post(
            live_server.url + reverse("api:token_obtain"),
            {"email": user.email, "password": password},
        )
        assert status == 200, body
        return user, body["access"]

    return sign_in


@repeat(ROUNDS)
def test_concurrent_posts_of_one_product_to_the_cart_all_succeed_and_add_up(live_server, signed_in):
    url = live_server.url + reverse("api:cart_item_list")
    user, token = signed_in()
    product = ProductFactory(stock=50)

    answers = run_in_threads(
        [lambda: _post(url, {"product": product.pk, "quantity": 1}, token=token)] * 3
    )

    assert [status for status, _ in answers] == [201] * 3, answers
    assert CartLine.objects.get(cart__user=user, product=product).quantity == 3


@repeat(ROUNDS)
def test_concurrent_checkouts_of_one_cart_answer_one_order_and_one_400_empty_cart(
    live_server, signed_in
):
    user, token = signed_in()
    product = ProductFactory(stock=10)
    status, body = _post(
        live_server.url + reverse("api:cart_item_list"),
        {"product": product.pk, "quantity": 2},
        token=token,
    )
    assert status == 201, body

    answers = run_in_threads(
        [lambda: _post(live_server.url + reverse("api:order_list"), token=token)] * 2
    )

    assert sorted(status for status, _ in answers) == [201, 400], answers
    refused = next(body for status, body in answers if status == 400)
    assert refused["code"] == "empty_cart"
    assert Order.objects.filter(user=user).count() == 1
    assert Product.objects.get(pk=product.pk).stock == 8
