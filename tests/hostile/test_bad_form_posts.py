"""
Bad form posts against every storefront form: add to cart, change a cart line, check out,
sign up, sign in. Each answers the form again with the error next to it (never a 500),
and writes nothing: no account, sign-in, cart, cart line or order, no stock moved.
"""

import pytest
from django.urls import reverse
from django.utils.html import escape

from accounts.models import SignIn, User
from shop.models import Cart, CartLine, Order, OrderLine, Product
from tests.support.factories import CartLineFactory, ProductFactory
from tests.support.storefront import sign_in

pytestmark = pytest.mark.django_db

ONE_MB = 1024 * 1024
TOO_BIG = "Ensure this value is less than or equal to 99."
TOO_SMALL = "Ensure this value is greater than or equal to {}."
NOT_A_NUMBER = "Enter a whole number."
REQUIRED = "This field is required."


def db_state() -> dict:
    """What a bad post must not change."""
    return {
        "users": User.objects.count(),
        "sign-ins": SignIn.objects.count(),
        "carts": Cart.objects.count(),
        "cart lines": list(CartLine.objects.values_list("pk", "quantity")),
        "orders": Order.objects.count(),
        "order lines": OrderLine.objects.count(),
        "stock": list(Product.objects.values_list("pk", "stock")),
    }


def assert_form_error(response, message: str) -> None:
    assert response.status_code == 200
    assert escape(message) in response.content.decode()


@pytest.fixture
def product(db):
    return ProductFactory(stock=5)


@pytest.fixture
def shopper_client(client, user, password):
    assert sign_in(client, user, password).status_code == 302
    return client


def quantity_cases(low: int):
    return [
        pytest.param(str(10**30), TOO_BIG, id="huge"),
        pytest.param("100", TOO_BIG, id="one over the limit"),
        pytest.param("-1", TOO_SMALL.format(low), id="negative"),
        pytest.param(str(-(10**30)), TOO_SMALL.format(low), id="hugely negative"),
        pytest.param("two", NOT_A_NUMBER, id="non-numeric"),
        pytest.param("1.5", NOT_A_NUMBER, id="float"),
        pytest.param("1e3", NOT_A_NUMBER, id="exponent"),
        pytest.param("", REQUIRED, id="empty"),
        pytest.param("9" * ONE_MB, NOT_A_NUMBER, id="1 MB of digits"),
        pytest.param("x" * ONE_MB, NOT_A_NUMBER, id="1 MB of text"),
    ]


# --- Add to cart (the product page) -------------------------------------------------------


@pytest.mark.parametrize(("quantity", "error"), quantity_cases(low=1))
@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "signed in"])
def test_a_bad_quantity_to_add_is_a_form_error_and_writes_nothing(
    client, user, password, product, signed_in, quantity, error
):
    if signed_in:
        sign_in(client, user, password)
    before = db_state()
    response = client.post(product.get_absolute_url(), {"quantity": quantity})
    assert_form_error(response, error)
    assert db_state() == before


def test_adding_zero_is_a_form_error(client, product):
    assert_form_error(
        client.post(product.get_absolute_url(), {"quantity": "0"}), TOO_SMALL.format(1)
    )
    assert not Cart.objects.exists()


def test_adding_more_than_in_stock_is_a_form_error(client, product):
    assert_form_error(
        client.post(product.get_absolute_url(), {"quantity": "6"}),
        f"Only 5 of {product.name} left in stock.",
    )
    assert not CartLine.objects.exists()


@pytest.mark.parametrize("slug", ["no-such-product", "x" * 10_000])
def test_adding_an_unknown_product_is_a_404_and_writes_nothing(client, db, slug):
    response = client.post(reverse("shop:product_detail", kwargs={"slug": slug}), {"quantity": 1})
    assert response.status_code == 404
    assert not Cart.objects.exists()


# --- Change a cart line -------------------------------------------------------------------


@pytest.fixture
def line(user, product):
    return CartLineFactory(cart__user=user, product=product, quantity=2)


@pytest.mark.parametrize(("quantity", "error"), quantity_cases(low=0))
def test_a_bad_quantity_for_a_cart_line_is_a_form_error_and_changes_nothing(
    shopper_client, line, quantity, error
):
    before = db_state()
    response = shopper_client.post(
        reverse("shop:cart_update", kwargs={"product_id": line.product_id}),
        {f"line-{line.product_id}-quantity": quantity},
    )
    assert_form_error(response, error)
    assert db_state() == before


@pytest.mark.parametrize("product_id", [987654, 10**30])
@pytest.mark.parametrize("action", ["shop:cart_update", "shop:cart_remove"])
def test_changing_a_product_not_in_the_cart_is_a_404(shopper_client, line, product_id, action):
    before = db_state()
    response = shopper_client.post(
        reverse(action, kwargs={"product_id": product_id}), {f"line-{product_id}-quantity": 1}
    )
    assert response.status_code == 404
    assert db_state() == before


# --- Check out ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "error"),
    [
        pytest.param({}, REQUIRED, id="no idempotency key"),
        pytest.param({"idempotency_key": "   "}, REQUIRED, id="blank key"),
        pytest.param(
            {"idempotency_key": "k" * ONE_MB},
            f"Ensure this value has at most 64 characters (it has {ONE_MB}).",
            id="1 MB key",
        ),
    ],
)
def test_a_bad_checkout_post_is_a_form_error_and_places_no_order(shopper_client, line, data, error):
    before = db_state()
    assert_form_error(shopper_client.post(reverse("shop:checkout"), data), error)
    assert db_state() == before


def test_checking_out_an_empty_cart_is_a_form_error(shopper_client):
    response = shopper_client.post(reverse("shop:checkout"), {"idempotency_key": "k1"})
    assert_form_error(response, "Your cart is empty.")
    assert not Order.objects.exists()


# --- Sign up ------------------------------------------------------------------------------

GOOD_SIGN_UP = {
    "email": "newcomer@example.com",
    "first_name": "New",
    "last_name": "Comer",
    "password": "a-long-enough-passphrase",
    "password_confirm": "a-long-enough-passphrase",
}


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        pytest.param({"email": "not-an-email"}, "Enter a valid email address.", id="bad email"),
        pytest.param(
            {"email": "a" * ONE_MB + "@example.com"},
            "Ensure this value has at most 254 characters",
            id="1 MB email",
        ),
        pytest.param(
            {"first_name": "x" * ONE_MB},
            "Ensure this value has at most 150 characters",
            id="1 MB first name",
        ),
        pytest.param(
            {"password": "p" * ONE_MB, "password_confirm": "p" * ONE_MB},
            "This password is too long. It must contain at most 4096 characters.",
            id="1 MB password",
        ),
        pytest.param(
            {"password_confirm": "something-else-entirely"},
            "The two passwords do not match.",
            id="passwords differ",
        ),
        pytest.param({"password": "", "password_confirm": ""}, REQUIRED, id="no password"),
        pytest.param(
            {"password": "12345678", "password_confirm": "12345678"},
            "This password is entirely numeric.",
            id="weak password",
        ),
    ],
)
def test_a_bad_sign_up_is_a_form_error_and_creates_no_account(client, db, changes, error):
    before = db_state()
    response = client.post(reverse("accounts:signup"), {**GOOD_SIGN_UP, **changes})
    assert_form_error(response, error)
    assert db_state() == before


# --- Sign in ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "error"),
    [
        pytest.param(
            {"username": "a" * ONE_MB, "password": "x"},
            "Ensure this value has at most 254 characters",
            id="1 MB email",
        ),
        pytest.param(
            {"username": "user@example.com", "password": "p" * ONE_MB},
            "Please enter a correct email and password.",
            id="1 MB password",
        ),
        pytest.param({"username": "", "password": ""}, REQUIRED, id="empty"),
        pytest.param(
            {"username": "not-an-email", "password": "x"},
            "Enter a valid email address.",
            id="bad email",
        ),
    ],
)
def test_a_bad_sign_in_is_a_form_error_and_signs_nobody_in(client, user, data, error):
    before = db_state()
    assert_form_error(client.post(reverse("accounts:login"), data), error)
    assert db_state() == before
    assert client.get(reverse("accounts:me")).status_code == 401


# --- Requests too big to read -------------------------------------------------------------


def test_a_post_over_the_upload_limit_is_a_400_page(client, product, settings):
    body = {"quantity": "1", "padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    response = client.post(product.get_absolute_url(), body)
    assert response.status_code == 400
    assert not Cart.objects.exists()


def test_a_post_with_too_many_fields_is_a_400_page(client, product, settings):
    body = {f"field{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client.post(product.get_absolute_url(), {**body, "quantity": "1"})
    assert response.status_code == 400
    assert not Cart.objects.exists()
