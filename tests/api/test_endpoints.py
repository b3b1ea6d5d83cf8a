"""The public contract of the endpoints: health, me, catalog, cart, orders and sign-ins."""

from decimal import Decimal

import pytest
from django.urls import reverse

from shop.models import Order
from tests.support.api import bearer, claims_of, obtain
from tests.support.factories import CartLineFactory, CategoryFactory, ProductFactory, SignInFactory

pytestmark = pytest.mark.django_db


# --- Health and me: the benchmark's endpoints -----------------------------------------------


@pytest.mark.redis
def test_healthz_answers_without_a_token_the_database_or_redis(
    api, django_assert_num_queries, redis_cache
):
    with django_assert_num_queries(0):
        response = api.get(reverse("api:healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert redis_cache == []


def test_healthz_ignores_even_a_broken_token(api, db):
    assert api.get(reverse("api:healthz"), **bearer("garbage")).status_code == 200


@pytest.mark.both_paths
def test_me_in_db_mode_runs_exactly_one_query(api, pair, django_assert_num_queries, settings):
    settings.JWT_USER_LOOKUP = "db"
    with django_assert_num_queries(1):
        assert api.get(reverse("api:me"), **bearer(pair["access"])).status_code == 200


@pytest.mark.both_paths
@pytest.mark.redis
def test_me_in_stateless_mode_touches_neither_database_nor_redis(
    api, pair, user, django_assert_num_queries, settings, redis_cache
):
    settings.JWT_USER_LOOKUP = "stateless"
    redis_cache.clear()
    with django_assert_num_queries(0):
        response = api.get(reverse("api:me"), **bearer(pair["access"]))
    assert response.json() == {"id": user.pk, "email": user.email}
    assert redis_cache == []


@pytest.mark.both_paths
@pytest.mark.redis
@pytest.mark.parametrize(("mode", "queries"), [("stateless", 0), ("db", 1)])
def test_the_denylist_adds_exactly_one_redis_get(
    api, pair, denylist, django_assert_num_queries, settings, mode, queries
):
    settings.JWT_USER_LOOKUP = mode
    denylist.clear()
    with django_assert_num_queries(queries):
        assert api.get(reverse("api:me"), **bearer(pair["access"])).status_code == 200
    assert denylist == ["get"]


# --- Catalog ----------------------------------------------------------------------------


@pytest.fixture
def catalog(db):
    books = CategoryFactory(name="Books", slug="books")
    coffee = CategoryFactory(name="Coffee", slug="coffee")
    return [
        ProductFactory(name="Field Guide", category=books, price=Decimal("12.50")),
        ProductFactory(name="Cookbook", category=books),
        ProductFactory(name="Espresso Beans", category=coffee, description="Dark roast"),
        ProductFactory(name="Retired Mug", category=coffee, is_active=False),
    ]


def test_products_are_readable_without_a_token(api, catalog):
    response = api.get(reverse("api:product_list"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert {p["name"] for p in body["results"]} == {"Field Guide", "Cookbook", "Espresso Beans"}


def test_products_filter_by_search_text_and_category(api, catalog):
    url = reverse("api:product_list")
    assert [p["name"] for p in api.get(url, {"search": "roast"}).json()["results"]] == [
        "Espresso Beans"
    ]
    names = [p["name"] for p in api.get(url, {"category": "books"}).json()["results"]]
    assert names == ["Cookbook", "Field Guide"]


def test_products_are_paginated(api, db, settings):
    ProductFactory.create_batch(25)
    first = api.get(reverse("api:product_list")).json()
    assert len(first["results"]) == 20
    assert first["next"]
    assert len(api.get(first["next"]).json()["results"]) == 5


def test_a_page_past_the_end_is_a_json_404(api, catalog):
    response = api.get(reverse("api:product_list"), {"page": 9})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("page", ["", "last", "two", "-1", "٣"])
def test_a_page_that_is_not_a_whole_number_is_a_json_404(api, catalog, page):
    response = api.get(reverse("api:product_list"), {"page": page})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_search_with_a_nul_character_is_a_400_not_a_database_error(api, catalog):
    response = api.get(reverse("api:product_list"), {"search": "a\x00b"})
    assert response.status_code == 400
    assert "search" in response.json()["errors"]


@pytest.mark.parametrize("count", [3, 30])
def test_the_product_list_runs_a_fixed_number_of_queries(api, db, django_assert_num_queries, count):
    ProductFactory.create_batch(count)
    with django_assert_num_queries(2):  # the count, and one page with its categories
        assert api.get(reverse("api:product_list")).status_code == 200


def test_one_product_by_id(api, catalog):
    product = catalog[0]
    body = api.get(reverse("api:product_detail", args=[product.pk])).json()
    assert body == {
        "id": product.pk,
        "name": "Field Guide",
        "slug": product.slug,
        "description": product.description,
        "price": "12.50",
        "stock": product.stock,
        "category": {"slug": "books", "name": "Books"},
    }


def test_an_inactive_or_unknown_product_is_a_404(api, catalog):
    assert api.get(reverse("api:product_detail", args=[catalog[3].pk])).status_code == 404
    assert api.get(reverse("api:product_detail", args=[10**17])).status_code == 404


def test_an_id_too_large_for_the_database_is_a_json_404(api, db):
    response = api.get("/api/products/99999999999999999999999/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_unknown_api_path_is_a_json_404(api, db):
    response = api.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


# --- Cart -------------------------------------------------------------------------------


def add(client, product, quantity=1):
    return client.post(
        reverse("api:cart_item_list"), {"product": product.pk, "quantity": quantity}, format="json"
    )


def test_the_cart_starts_empty_and_needs_a_token(api, authed):
    assert api.get(reverse("api:cart")).status_code == 401
    assert authed.get(reverse("api:cart")).json() == {"lines": [], "total": "0.00"}


def test_adding_an_item_returns_the_cart_with_totals(authed, catalog):
    response = add(authed, catalog[0], 2)
    assert response.status_code == 201
    cart = response.json()
    assert cart["total"] == "25.00"
    (line,) = cart["lines"]
    assert line["product"] == {"id": catalog[0].pk, "name": "Field Guide", "price": "12.50"}
    assert line["quantity"] == 2
    assert line["subtotal"] == "25.00"


def test_adding_the_same_product_again_adds_up(authed, catalog):
    add(authed, catalog[0], 2)
    (line,) = add(authed, catalog[0], 3).json()["lines"]
    assert line["quantity"] == 5


@pytest.mark.parametrize(
    ("quantity", "field"),
    [(0, "quantity"), (100, "quantity"), (11, "quantity"), ("two", "quantity"), (None, "quantity")],
)
def test_a_bad_quantity_is_a_400_with_a_field_error_and_changes_nothing(
    authed, catalog, quantity, field
):
    response = authed.post(
        reverse("api:cart_item_list"),
        {"product": catalog[0].pk, "quantity": quantity},
        format="json",
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert authed.get(reverse("api:cart")).json()["lines"] == []


@pytest.mark.parametrize("product_id", [10**17, "abc", -1])
def test_an_unknown_product_is_a_400_on_the_product_field(authed, db, product_id):
    response = authed.post(
        reverse("api:cart_item_list"), {"product": product_id, "quantity": 1}, format="json"
    )
    assert response.status_code == 400
    assert "product" in response.json()["errors"]


def test_an_inactive_product_cannot_be_added(authed, catalog):
    response = add(authed, catalog[3])
    assert response.status_code == 400


def test_patch_sets_the_quantity_and_zero_removes_the_line(authed, catalog):
    line_id = add(authed, catalog[0], 1).json()["lines"][0]["id"]
    url = reverse("api:cart_item_detail", args=[line_id])
    assert authed.patch(url, {"quantity": 4}, format="json").json()["lines"][0]["quantity"] == 4
    assert authed.patch(url, {"quantity": 0}, format="json").json()["lines"] == []


def test_a_patch_without_a_quantity_changes_nothing(authed, catalog):
    line_id = add(authed, catalog[0], 2).json()["lines"][0]["id"]
    response = authed.patch(reverse("api:cart_item_detail", args=[line_id]), {}, format="json")
    assert response.status_code == 200
    assert response.json()["lines"][0]["quantity"] == 2


@pytest.mark.parametrize(
    ("product_index", "quantity", "code"),
    [(0, 11, "insufficient_stock"), (3, 1, "does_not_exist"), (0, 100, "max_value")],
)
def test_a_refused_cart_line_says_why_in_its_code(authed, catalog, product_index, quantity, code):
    response = add(authed, catalog[product_index], quantity)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_delete_removes_one_line(authed, catalog):
    line_id = add(authed, catalog[0]).json()["lines"][0]["id"]
    add(authed, catalog[1])
    assert authed.delete(reverse("api:cart_item_detail", args=[line_id])).status_code == 204
    assert [line["product"]["id"] for line in authed.get(reverse("api:cart")).json()["lines"]] == [
        catalog[1].pk
    ]


def test_another_user_s_cart_line_is_a_404(authed, catalog, other_user):
    theirs = CartLineFactory(cart__user=other_user, product=catalog[0])
    url = reverse("api:cart_item_detail", args=[theirs.pk])
    assert authed.patch(url, {"quantity": 3}, format="json").status_code == 404
    assert authed.delete(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.quantity == 1


def test_delete_cart_empties_it(authed, catalog):
    add(authed, catalog[0])
    assert authed.delete(reverse("api:cart")).status_code == 204
    assert authed.get(reverse("api:cart")).json()["lines"] == []


# --- Orders -----------------------------------------------------------------------------


def test_placing_an_order_empties_the_cart_and_returns_the_order(authed, catalog):
    add(authed, catalog[0], 2)
    response = authed.post(reverse("api:order_list"))
    assert response.status_code == 201
    order = response.json()
    assert order["total"] == "25.00"
    assert order["status"] == "placed"
    assert order["lines"] == [
        {
            "product": catalog[0].pk,
            "product_name": "Field Guide",
            "unit_price": "12.50",
            "quantity": 2,
            "subtotal": "25.00",
        }
    ]
    assert authed.get(reverse("api:cart")).json()["lines"] == []


def test_an_empty_cart_cannot_be_ordered(authed, db):
    response = authed.post(reverse("api:order_list"))
    assert response.status_code == 400
    assert response.json()["code"] == "empty_cart"


def test_a_retry_with_the_same_idempotency_key_returns_the_same_order(authed, catalog, user):
    add(authed, catalog[0])
    first = authed.post(reverse("api:order_list"), HTTP_IDEMPOTENCY_KEY="checkout-1")
    add(authed, catalog[1])
    retry = authed.post(reverse("api:order_list"), HTTP_IDEMPOTENCY_KEY="checkout-1")
    assert retry.json() == first.json()
    assert Order.objects.filter(user=user).count() == 1


def test_an_overlong_idempotency_key_is_a_400(authed, catalog):
    add(authed, catalog[0])
    response = authed.post(reverse("api:order_list"), HTTP_IDEMPOTENCY_KEY="k" * 65)
    assert response.status_code == 400
    assert "idempotency_key" in response.json()["errors"]


def test_running_out_of_stock_is_a_400_and_no_order(authed, catalog, user):
    add(authed, catalog[0], 3)
    catalog[0].stock = 2
    catalog[0].save()
    response = authed.post(reverse("api:order_list"))
    assert response.status_code == 400
    assert not Order.objects.filter(user=user).exists()


def test_orders_list_newest_first_and_only_the_user_s_own(authed, catalog, other_user):
    for product in catalog[:2]:
        add(authed, product)
        authed.post(reverse("api:order_list"))
    Order.objects.create(user=other_user, total=Decimal("1.00"))
    body = authed.get(reverse("api:order_list")).json()
    assert body["count"] == 2
    assert [o["lines"][0]["product_name"] for o in body["results"]] == ["Cookbook", "Field Guide"]


def test_the_order_list_runs_a_fixed_number_of_queries(authed, catalog, django_assert_num_queries):
    for product in catalog[:3]:
        add(authed, product)
        authed.post(reverse("api:order_list"))
    # The user, the count, one page of orders, and their lines.
    with django_assert_num_queries(4):
        authed.get(reverse("api:order_list"))


def test_another_user_s_order_is_a_404(authed, other_user, db):
    theirs = Order.objects.create(user=other_user, total=Decimal("1.00"))
    assert authed.get(reverse("api:order_detail", args=[theirs.pk])).status_code == 404


def test_one_order_by_id(authed, catalog):
    add(authed, catalog[0])
    order_id = authed.post(reverse("api:order_list")).json()["id"]
    assert authed.get(reverse("api:order_detail", args=[order_id])).json()["id"] == order_id


# --- Sign-ins ---------------------------------------------------------------------------


def test_sessions_list_every_live_sign_in_and_marks_the_current_one(
    api, pair, user, password, session_store, settings
):
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store.create()
    browser = SignInFactory(user=user, session_key=store.session_key)
    obtain(api, user.email, password)
    body = api.get(reverse("api:sign_in_list"), **bearer(pair["access"])).json()
    assert len(body) == 3
    assert {s["kind"] for s in body} == {"session", "token"}
    (current,) = [s for s in body if s["current"]]
    assert current["id"] == claims_of(pair["access"])["sid"]
    assert str(browser.pk) in {s["id"] for s in body}


def test_an_unknown_sign_in_id_is_a_404(authed, db):
    url = reverse("api:sign_in_detail", args=["00000000-0000-0000-0000-000000000000"])
    assert authed.delete(url).status_code == 404
