import pytest
from django.core.exceptions import ValidationError

from shop import selectors, services
from shop.models import Cart, CartLine
from tests.support.factories import CartFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_adding_a_product_twice_adds_up_the_quantity():
    cart = CartFactory()
    product = ProductFactory(stock=10)
    services.cart_add_item(cart=cart, product=product, quantity=2)
    line = services.cart_add_item(cart=cart, product=product, quantity=3)
    assert line.quantity == 5
    assert cart.lines.count() == 1


@pytest.mark.parametrize("quantity", [0, -1, 100, 10**9, "3", 2.5, None, True])
def test_add_refuses_quantities_that_are_not_whole_numbers_in_range(quantity):
    cart = CartFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.cart_add_item(cart=cart, product=ProductFactory(), quantity=quantity)
    assert "quantity" in excinfo.value.message_dict
    assert not CartLine.objects.exists()


def test_add_refuses_an_inactive_product():
    cart = CartFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.cart_add_item(cart=cart, product=ProductFactory(is_active=False), quantity=1)
    assert "product" in excinfo.value.message_dict
    assert not CartLine.objects.exists()


def test_add_refuses_more_than_is_in_stock_and_keeps_the_line_unchanged():
    cart = CartFactory()
    product = ProductFactory(stock=3)
    services.cart_add_item(cart=cart, product=product, quantity=2)
    with pytest.raises(ValidationError, match="Only 3"):
        services.cart_add_item(cart=cart, product=product, quantity=2)
    assert cart.lines.get().quantity == 2


def test_set_quantity_replaces_it_and_zero_removes_the_line():
    cart = CartFactory()
    product = ProductFactory()
    services.cart_add_item(cart=cart, product=product, quantity=4)
    assert services.cart_set_quantity(cart=cart, product=product, quantity=1).quantity == 1
    assert services.cart_set_quantity(cart=cart, product=product, quantity=0) is None
    assert not cart.lines.exists()


def test_remove_item_is_idempotent():
    cart = CartFactory()
    product = ProductFactory()
    services.cart_add_item(cart=cart, product=product, quantity=1)
    services.cart_remove_item(cart=cart, product=product)
    services.cart_remove_item(cart=cart, product=product)
    assert not cart.lines.exists()


def test_merge_adds_quantities_caps_them_by_stock_and_deletes_the_anonymous_cart(user):
    shared = ProductFactory(stock=5)
    only_anonymous = ProductFactory(stock=10)
    retired = ProductFactory(stock=10)
    anonymous = services.cart_create_anonymous()
    services.cart_add_item(cart=anonymous, product=shared, quantity=4)
    services.cart_add_item(cart=anonymous, product=only_anonymous, quantity=2)
    services.cart_add_item(cart=anonymous, product=retired, quantity=1)
    retired.is_active = False
    retired.save()
    mine = services.cart_get_or_create_for_user(user=user)
    services.cart_add_item(cart=mine, product=shared, quantity=3)

    services.cart_merge(source=anonymous, target=mine)

    quantities = {line.product_id: line.quantity for line in mine.lines.all()}
    assert quantities == {shared.pk: 5, only_anonymous.pk: 2}
    assert not Cart.objects.filter(pk=anonymous.pk).exists()


def test_anonymous_cart_is_found_only_by_its_token():
    cart = services.cart_create_anonymous()
    assert selectors.cart_get_anonymous(token=cart.anonymous_token) == cart
    assert selectors.cart_get_anonymous(token="not-a-token") is None
    assert selectors.cart_get_anonymous(token=None) is None
