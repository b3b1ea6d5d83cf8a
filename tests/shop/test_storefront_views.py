"""The storefront's pages: catalog, product, cart, checkout and orders."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from shop.models import Cart, Order
from shop.services import order_place
from shop.views import CATALOG_PAGE_SIZE, ORDERS_PAGE_SIZE
from tests.support.factories import CartLineFactory, CategoryFactory, ProductFactory, UserFactory
from tests.support.storefront import sign_in

pytestmark = pytest.mark.django_db

# Django's AuthenticationMiddleware loads the user row on every request; the fast path
# builds the user from the session's snapshot.
USER_ROW = {"stock": 1, "fast": 0}


@pytest.fixture
def db_sessions(settings):
    """Sessions in the database, so that the session read shows up in the query counts."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"


@pytest.fixture
def shopper(user, password):
    browser = Client()
    sign_in(browser, user, password)
    return browser


def _add(client, product, quantity=1):
    return client.post(reverse("shop:product_detail", args=[product.slug]), {"quantity": quantity})


def _place_order(user, *products):
    cart, _ = Cart.objects.get_or_create(user=user)
    for product in products:
        CartLineFactory(cart=cart, product=product, quantity=1)
    return order_place(user=user, cart=cart)


# --- Catalog ---------------------------------------------------------------------------


def test_catalog_search_finds_matching_products(client):
    ProductFactory(name="Brass Lamp")
    ProductFactory(name="Wool Rug")
    html = client.get(reverse("shop:catalog"), {"q": "lamp"}).content.decode()
    assert "Brass Lamp" in html
    assert "Wool Rug" not in html


def test_catalog_filters_by_category(client):
    books = CategoryFactory(slug="books", name="Books")
    ProductFactory(name="Atlas", category=books)
    ProductFactory(name="Teapot")
    html = client.get(reverse("shop:catalog"), {"category": "books"}).content.decode()
    assert "Atlas" in html
    assert "Teapot" not in html


def test_catalog_paginates(client):
    ProductFactory.create_batch(CATALOG_PAGE_SIZE + 1)
    first = client.get(reverse("shop:catalog")).content.decode()
    second = client.get(reverse("shop:catalog"), {"page": 2}).content.decode()
    assert "Page 1 of 2" in first
    assert "Page 2 of 2" in second


def test_catalog_survives_a_nonsense_page_number(client):
    ProductFactory()
    assert client.get(reverse("shop:catalog"), {"page": "abc"}).status_code == 200


@pytest.mark.parametrize("count", [1, CATALOG_PAGE_SIZE])
def test_catalog_runs_three_queries_whatever_the_page_size(
    client, count, django_assert_num_queries
):
    ProductFactory.create_batch(count)
    # Count, the page of products with their categories, the category list.
    with django_assert_num_queries(3):
        response = client.get(reverse("shop:catalog"))
    assert response.context["page"].object_list.__len__() == count


def test_an_unknown_or_inactive_product_is_a_404(client):
    hidden = ProductFactory(is_active=False)
    assert client.get(reverse("shop:product_detail", args=["nope"])).status_code == 404
    assert client.get(reverse("shop:product_detail", args=[hidden.slug])).status_code == 404


# --- Cart ------------------------------------------------------------------------------


def test_a_visitor_can_fill_a_cart_without_signing_in(client):
    product = ProductFactory(name="Compass", price=Decimal("12.50"))
    response = _add(client, product, 2)
    assert response["Location"] == reverse("shop:cart")
    html = client.get(reverse("shop:cart")).content.decode()
    assert "Compass" in html
    assert "$25.00" in html


def test_adding_more_than_the_stock_shows_the_error_next_to_the_quantity(client):
    product = ProductFactory(stock=2)
    response = _add(client, product, 3)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_quantity_error"' in html
    assert "Only 2" in html
    assert not Cart.objects.exists() or not Cart.objects.get().lines.exists()


def test_the_cart_quantity_can_be_changed(client):
    product = ProductFactory(stock=10)
    _add(client, product)
    response = client.post(
        reverse("shop:cart_update", args=[product.pk]), {f"line-{product.pk}-quantity": 4}
    )
    assert response.status_code == 302
    assert Cart.objects.get().lines.get().quantity == 4


def test_a_quantity_over_the_stock_is_shown_on_that_line(client):
    product = ProductFactory(stock=3)
    _add(client, product)
    response = client.post(
        reverse("shop:cart_update", args=[product.pk]), {f"line-{product.pk}-quantity": 9}
    )
    html = response.content.decode()
    assert f'id="id_line-{product.pk}-quantity_error"' in html
    assert Cart.objects.get().lines.get().quantity == 1


def test_setting_zero_removes_the_line(client):
    product = ProductFactory()
    _add(client, product)
    client.post(reverse("shop:cart_update", args=[product.pk]), {f"line-{product.pk}-quantity": 0})
    assert not Cart.objects.get().lines.exists()


def test_a_line_can_be_removed(client):
    product = ProductFactory()
    _add(client, product)
    client.post(reverse("shop:cart_remove", args=[product.pk]))
    assert not Cart.objects.get().lines.exists()


def test_a_line_for_a_product_withdrawn_from_sale_can_still_be_removed(client):
    product = ProductFactory()
    _add(client, product)
    product.is_active = False
    product.save()
    client.post(reverse("shop:cart_remove", args=[product.pk]))
    assert not Cart.objects.get().lines.exists()


def test_changing_a_product_not_in_the_cart_is_a_404(client):
    product = ProductFactory()
    response = client.post(reverse("shop:cart_remove", args=[product.pk]))
    assert response.status_code == 404


def test_one_visitors_cart_is_not_anothers(client):
    product = ProductFactory(name="Kite")
    _add(client, product)
    assert "Kite" not in Client().get(reverse("shop:cart")).content.decode()


def test_cart_forms_need_a_csrf_token():
    browser = Client(enforce_csrf_checks=True)
    product = ProductFactory()
    assert _add(browser, product).status_code == 403


@pytest.mark.both_paths
def test_cart_runs_a_fixed_number_of_queries(
    auth_path, db_sessions, shopper, user, django_assert_num_queries
):
    cart = Cart.objects.create(user=user)
    CartLineFactory.create_batch(5, cart=cart)
    # Session, (stock: the user row,) cart, lines with their products.
    with django_assert_num_queries(3 + USER_ROW[auth_path]):
        assert shopper.get(reverse("shop:cart")).status_code == 200


# --- Checkout --------------------------------------------------------------------------


def test_checkout_needs_sign_in(client):
    response = client.get(reverse("shop:checkout"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={reverse('shop:checkout')}"


def test_checkout_places_the_order_and_shows_a_confirmation(shopper, user):
    product = ProductFactory(stock=5, price=Decimal("4.00"))
    _add(shopper, product, 2)
    page = shopper.get(reverse("shop:checkout"))
    key = page.context["form"]["idempotency_key"].value()
    response = shopper.post(reverse("shop:checkout"), {"idempotency_key": key})
    order = Order.objects.get(user=user)
    assert response["Location"] == reverse("shop:checkout_done", args=[order.pk])
    assert order.total == Decimal("8.00")
    product.refresh_from_db()
    assert product.stock == 3
    confirmation = shopper.get(response["Location"]).content.decode()
    assert f"order #{order.pk} is placed" in confirmation


def test_a_double_submitted_checkout_places_one_order(shopper, user):
    _add(shopper, ProductFactory())
    key = shopper.get(reverse("shop:checkout")).context["form"]["idempotency_key"].value()
    first = shopper.post(reverse("shop:checkout"), {"idempotency_key": key})
    second = shopper.post(reverse("shop:checkout"), {"idempotency_key": key})
    assert first["Location"] == second["Location"]
    assert Order.objects.filter(user=user).count() == 1


def test_checkout_with_an_empty_cart_explains_itself(shopper, user):
    response = shopper.post(reverse("shop:checkout"), {"idempotency_key": "k1"})
    assert response.status_code == 200
    assert "Your cart is empty." in response.content.decode()
    assert not Order.objects.exists()


def test_checkout_when_stock_ran_out_shows_the_error_and_places_nothing(shopper, user):
    product = ProductFactory(stock=2, name="Last Tent")
    _add(shopper, product, 2)
    product.stock = 1
    product.save()
    response = shopper.post(reverse("shop:checkout"), {"idempotency_key": "k2"})
    assert "Only 1 of Last Tent left in stock." in response.content.decode()
    assert not Order.objects.exists()


# --- Orders ----------------------------------------------------------------------------


def test_orders_lists_only_the_users_own_orders(shopper, user):
    mine = _place_order(user, ProductFactory())
    theirs = _place_order(UserFactory(), ProductFactory())
    html = shopper.get(reverse("shop:order_list")).content.decode()
    assert f"Order #{mine.pk}<" in html
    assert f"Order #{theirs.pk}<" not in html


def test_another_users_order_is_a_404(shopper):
    theirs = _place_order(UserFactory(), ProductFactory())
    assert shopper.get(reverse("shop:order_detail", args=[theirs.pk])).status_code == 404
    assert shopper.get(reverse("shop:checkout_done", args=[theirs.pk])).status_code == 404


def test_an_order_page_shows_its_lines(shopper, user):
    order = _place_order(user, ProductFactory(name="Headlamp"))
    html = shopper.get(reverse("shop:order_detail", args=[order.pk])).content.decode()
    assert "Headlamp" in html


def test_orders_need_sign_in(client):
    assert client.get(reverse("shop:order_list")).status_code == 302


@pytest.mark.both_paths
@pytest.mark.parametrize("orders", [1, ORDERS_PAGE_SIZE])
def test_orders_page_runs_four_queries_whatever_the_page_size(
    auth_path, db_sessions, shopper, user, orders, django_assert_num_queries
):
    for _ in range(orders):
        _place_order(user, ProductFactory(), ProductFactory())
    # Session, (stock: the user row,) count, the page of orders, their lines.
    with django_assert_num_queries(4 + USER_ROW[auth_path]):
        response = shopper.get(reverse("shop:order_list"))
    assert len(response.context["page"].object_list) == orders


@pytest.mark.both_paths
@pytest.mark.parametrize("lines", [1, 10])
def test_an_order_page_runs_three_queries_whatever_its_size(
    auth_path, db_sessions, shopper, user, lines, django_assert_num_queries
):
    order = _place_order(user, *ProductFactory.create_batch(lines))
    # Session, (stock: the user row,) the order, its lines.
    with django_assert_num_queries(3 + USER_ROW[auth_path]):
        assert shopper.get(reverse("shop:order_detail", args=[order.pk])).status_code == 200
