"""Checkout under real concurrency: PostgreSQL row locks, many threads, one product."""

import pytest
from django.core.exceptions import ValidationError

from shop import services
from shop.models import CartLine, Order, OrderLine, Product
from tests.support.factories import ProductFactory, UserFactory
from tests.support.threads import repeat, run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 15


def _buyer_with(product, quantity):
    """Return a new user and their cart holding ``quantity`` of the product."""
    user = UserFactory()
    cart = services.cart_get_or_create_for_user(user=user)
    services.cart_add_item(cart=cart, product=product, quantity=quantity)
    return user, cart


def test_twenty_buyers_for_the_last_five_units_make_exactly_five_orders():
    product = ProductFactory(stock=5)
    buyers = [_buyer_with(product, 1) for _ in range(20)]

    outcomes = run_in_threads(
        [
            lambda user=user, cart=cart: services.order_place(user=user, cart=cart)
            for user, cart in buyers
        ]
    )

    assert sum(isinstance(o, Order) for o in outcomes) == 5
    assert sum(isinstance(o, ValidationError) for o in outcomes) == 15
    assert Order.objects.count() == 5
    assert Product.objects.get(pk=product.pk).stock == 0


@repeat(ROUNDS)
def test_a_double_submit_racing_itself_gives_every_submit_the_same_order():
    user, cart = _buyer_with(product := ProductFactory(stock=10), 2)

    outcomes = run_in_threads(
        [lambda: services.order_place(user=user, cart=cart, idempotency_key="same-click")] * 4
    )

    assert all(isinstance(o, Order) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert Order.objects.filter(user=user).count() == 1
    assert Product.objects.get(pk=product.pk).stock == 8


@repeat(ROUNDS)
def test_two_checkouts_of_one_cart_without_a_key_make_one_order_and_one_empty_cart_error():
    user, cart = _buyer_with(product := ProductFactory(stock=10), 2)

    outcomes = run_in_threads([lambda: services.order_place(user=user, cart=cart)] * 2)

    orders = [o for o in outcomes if isinstance(o, Order)]
    refused = [o for o in outcomes if not isinstance(o, Order)]
    assert len(orders) == 1, outcomes
    assert [type(o) for o in refused] == [ValidationError]
    assert refused[0].code == "empty_cart"
    assert Order.objects.filter(user=user).count() == 1
    assert Product.objects.get(pk=product.pk).stock == 8


@repeat(ROUNDS)
def test_an_add_racing_a_checkout_ends_in_the_order_or_in_the_cart_never_lost():
    user, cart = _buyer_with(product := ProductFactory(stock=10), 1)

    outcomes = run_in_threads(
        [
            lambda: services.order_place(user=user, cart=cart),
            lambda: services.cart_add_item(cart=cart, product=product, quantity=1),
        ]
    )

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    ordered = sum(OrderLine.objects.filter(order__user=user).values_list("quantity", flat=True))
    in_cart = sum(CartLine.objects.filter(cart=cart).values_list("quantity", flat=True))
    assert ordered + in_cart == 2
    assert Product.objects.get(pk=product.pk).stock == 10 - ordered
