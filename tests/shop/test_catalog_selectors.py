import pytest

from shop import selectors
from tests.support.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_search_matches_name_or_description_case_insensitively():
    lamp = ProductFactory(name="Brass Lamp", description="Warm light")
    rug = ProductFactory(name="Wool Rug", description="Goes well under a LAMP")
    ProductFactory(name="Teapot", description="Porcelain")
    assert set(selectors.product_list(query="lamp")) == {lamp, rug}


def test_category_filter_and_inactive_products_are_hidden():
    books = CategoryFactory(slug="books")
    novel = ProductFactory(category=books)
    ProductFactory(category=books, is_active=False)
    ProductFactory()
    assert list(selectors.product_list(category_slug="books")) == [novel]


def test_an_inactive_product_cannot_be_fetched():
    product = ProductFactory(is_active=False)
    with pytest.raises(product.DoesNotExist):
        selectors.product_get(slug=product.slug)
