"""Checkout under real concurrency: PostgreSQL row locks, many threads, one product."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from shop import services
from shop.models import Order, Product
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_in_threads(target, args_list):
    barrier = threading.Barrier(len(args_list))
    outcomes = []
    lock = threading.Lock()

    def worker(*args):
        try:
            barrier.wait()
            result = target(*args)
        except ValidationError as exc:
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=args) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_twenty_buyers_for_the_last_five_units_make_exactly_five_orders():
    product = ProductFactory(stock=5)
    buyers = []
    for _ in range(20):
        user = UserFactory()
        cart = services.cart_get_or_create_for_user(user=user)
        services.cart_add_item(cart=cart, product=product, quantity=1)
        buyers.append((user, cart))

    outcomes = _run_in_threads(
        lambda user, cart: services.order_place(user=user, cart=cart), buyers
    )

    assert len(outcomes) == 20
    assert sum(isinstance(o, Order) for o in outcomes) == 5
    assert sum(isinstance(o, ValidationError) for o in outcomes) == 15
    assert Order.objects.count() == 5
    assert Product.objects.get(pk=product.pk).stock == 0


def test_a_double_submit_racing_itself_creates_one_order():
    product = ProductFactory(stock=10)
    user = UserFactory()
    cart = services.cart_get_or_create_for_user(user=user)
    services.cart_add_item(cart=cart, product=product, quantity=2)

    outcomes = _run_in_threads(
        lambda: services.order_place(user=user, cart=cart, idempotency_key="same-click"),
        [()] * 4,
    )

    orders = {o.pk for o in outcomes if isinstance(o, Order)}
    assert len(orders) == 1
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 8
