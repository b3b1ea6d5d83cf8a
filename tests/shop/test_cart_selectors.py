"""The cart reads both edges share: what a cart holds, and one of its lines."""

from decimal import Decimal

import pytest

from shop import selectors
from shop.models import CartLine
from tests.support.factories import CartFactory, CartLineFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_cart_contents_are_its_lines_in_the_order_added_and_their_total():
    cart = CartFactory()
    first = CartLineFactory(cart=cart, product=ProductFactory(price=Decimal("2.50")), quantity=2)
    second = CartLineFactory(cart=cart, product=ProductFactory(price=Decimal("1.25")), quantity=1)
    contents = selectors.cart_contents(cart=cart)
    assert contents.lines == [first, second]
    assert contents.total == Decimal("6.25")


def test_no_cart_has_empty_contents():
    contents = selectors.cart_contents(cart=None)
    assert (contents.lines, contents.total) == ([], Decimal("0.00"))


def test_a_cart_line_is_found_by_its_id_or_by_its_product():
    line = CartLineFactory()
    assert selectors.cart_line_get(cart=line.cart, pk=line.pk) == line
    assert selectors.cart_line_get(cart=line.cart, product_id=line.product_id) == line


def test_a_cart_line_found_needs_no_query_for_its_cart_or_product(django_assert_num_queries):
    line = CartLineFactory()
    with django_assert_num_queries(1):
        found = selectors.cart_line_get(cart=line.cart, pk=line.pk)
        assert (found.cart, found.product.name) == (line.cart, line.product.name)


@pytest.mark.parametrize("lookup", ["pk", "product_id"])
def test_another_carts_line_or_an_id_past_the_database_range_is_not_there(lookup):
    line = CartLineFactory()
    mine = CartFactory()
    with pytest.raises(CartLine.DoesNotExist):
        selectors.cart_line_get(cart=mine, **{lookup: getattr(line, lookup)})
    with pytest.raises(CartLine.DoesNotExist):
        selectors.cart_line_get(cart=line.cart, **{lookup: 10**30})
    with pytest.raises(CartLine.DoesNotExist):
        selectors.cart_line_get(cart=None, **{lookup: getattr(line, lookup)})
