from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from shop import selectors, services
from shop.models import Order, Product
from tests.support.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cart(user):
    return services.cart_get_or_create_for_user(user=user)


def test_placing_an_order_snapshots_prices_decrements_stock_and_empties_the_cart(user, cart):
    pen = ProductFactory(price=Decimal("2.50"), stock=10)
    ink = ProductFactory(price=Decimal("7.25"), stock=3)
    services.cart_add_item(cart=cart, product=pen, quantity=4)
    services.cart_add_item(cart=cart, product=ink, quantity=3)

    order = services.order_place(user=user, cart=cart)

    assert order.total == Decimal("31.75")
    assert sum(line.subtotal for line in order.lines.all()) == order.total
    pen.refresh_from_db()
    ink.refresh_from_db()
    assert (pen.stock, ink.stock) == (6, 0)
    assert not cart.lines.exists()
    pen.price = Decimal("99.00")
    pen.save()
    assert order.lines.get(product=pen).unit_price == Decimal("2.50")


def test_an_empty_cart_cannot_be_ordered(user, cart):
    with pytest.raises(ValidationError, match="empty"):
        services.order_place(user=user, cart=cart)
    assert not Order.objects.exists()


def test_too_little_stock_fails_the_whole_order_and_writes_nothing(user, cart):
    plenty = ProductFactory(stock=10)
    scarce = ProductFactory(stock=5)
    services.cart_add_item(cart=cart, product=plenty, quantity=2)
    services.cart_add_item(cart=cart, product=scarce, quantity=5)
    Product.objects.filter(pk=scarce.pk).update(stock=1)  # Someone else bought them meanwhile.

    with pytest.raises(ValidationError, match="Only 1"):
        services.order_place(user=user, cart=cart)

    assert not Order.objects.exists()
    assert Product.objects.get(pk=plenty.pk).stock == 10
    assert cart.lines.count() == 2


def test_a_product_withdrawn_after_it_was_added_fails_the_order(user, cart):
    product = ProductFactory()
    services.cart_add_item(cart=cart, product=product, quantity=1)
    Product.objects.filter(pk=product.pk).update(is_active=False)
    with pytest.raises(ValidationError, match="no longer available"):
        services.order_place(user=user, cart=cart)
    assert not Order.objects.exists()


def test_someone_elses_cart_cannot_be_ordered(user, other_user):
    theirs = services.cart_get_or_create_for_user(user=other_user)
    services.cart_add_item(cart=theirs, product=ProductFactory(), quantity=1)
    with pytest.raises(ValidationError):
        services.order_place(user=user, cart=theirs)
    assert not Order.objects.exists()


def test_the_same_idempotency_key_returns_the_same_order(user, cart):
    product = ProductFactory(stock=10)
    services.cart_add_item(cart=cart, product=product, quantity=2)
    first = services.order_place(user=user, cart=cart, idempotency_key="checkout-1")
    services.cart_add_item(cart=cart, product=product, quantity=1)
    again = services.order_place(user=user, cart=cart, idempotency_key="checkout-1")
    assert again.pk == first.pk
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 8


@pytest.mark.parametrize("key", ["", "   ", "x" * 65])
def test_a_malformed_idempotency_key_is_refused(user, cart, key):
    services.cart_add_item(cart=cart, product=ProductFactory(), quantity=1)
    with pytest.raises(ValidationError):
        services.order_place(user=user, cart=cart, idempotency_key=key)
    assert not Order.objects.exists()


def test_order_history_holds_only_the_users_own_orders(user, other_user, cart):
    services.cart_add_item(cart=cart, product=ProductFactory(), quantity=1)
    mine = services.order_place(user=user, cart=cart)
    theirs_cart = services.cart_get_or_create_for_user(user=other_user)
    services.cart_add_item(cart=theirs_cart, product=ProductFactory(), quantity=1)
    theirs = services.order_place(user=other_user, cart=theirs_cart)

    assert list(selectors.order_list(user=user)) == [mine]
    with pytest.raises(Order.DoesNotExist):
        selectors.order_get(user=user, pk=theirs.pk)
