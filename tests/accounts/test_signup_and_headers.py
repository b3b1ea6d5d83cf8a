"""Creating an account, and the headers that keep private pages private."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from shop.models import Cart
from tests.support.factories import ProductFactory
from tests.support.storefront import me, session_key, sign_in

pytestmark = pytest.mark.django_db

User = get_user_model()


def _sign_up(client, **overrides):
    data = {
        "email": "New.Customer@Example.com",
        "first_name": "New",
        "last_name": "Customer",
        "password": "plenty-long-passphrase",
        "password_confirm": "plenty-long-passphrase",
    }
    data.update(overrides)
    return client.post(reverse("accounts:signup"), data)


def test_signing_up_creates_the_account_and_signs_it_in(client, session_store):
    response = _sign_up(client)
    assert response.status_code == 302
    assert User.objects.get(email="new.customer@example.com").first_name == "New"
    assert me(client).json()["email"] == "new.customer@example.com"


def test_signing_up_keeps_the_visitors_cart(client, session_store):
    product = ProductFactory()
    client.post(reverse("shop:product_detail", args=[product.slug]), {"quantity": 3})
    anonymous_key = session_key(client)
    _sign_up(client)
    assert session_key(client) != anonymous_key
    cart = Cart.objects.get(user__email="new.customer@example.com")
    assert cart.lines.get().quantity == 3


def test_an_address_in_use_is_refused_next_to_the_email_field(client, user):
    response = _sign_up(client, email=user.email.upper())
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_email_error"' in html
    assert "already exists" in html
    assert User.objects.count() == 1


def test_a_weak_password_is_refused_next_to_the_password_field(client):
    response = _sign_up(client, password="12345678", password_confirm="12345678")
    html = response.content.decode()
    assert 'id="id_password_error"' in html
    assert not User.objects.exists()


def test_mismatched_passwords_are_refused(client):
    response = _sign_up(client, password_confirm="something-else-entirely")
    assert 'id="id_password_confirm_error"' in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "url_name",
    [
        "shop:cart",
        "shop:order_list",
        "accounts:devices",
        "accounts:password_change",
        "accounts:me",
        "accounts:login",
    ],
)
def test_private_pages_are_not_stored_by_caches(client, user, password, url_name):
    sign_in(client, user, password)
    response = client.get(reverse(url_name))
    assert "no-store" in response["Cache-Control"]


def test_any_page_rendered_for_a_signed_in_user_is_not_stored(client, user, password):
    sign_in(client, user, password)
    response = client.get(reverse("shop:catalog"))
    assert user.email in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_the_catalog_for_visitors_may_be_cached(client):
    response = client.get(reverse("shop:catalog"))
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_header_shows_who_is_signed_in_and_that_it_is_by_session(client, user, password):
    sign_in(client, user, password)
    html = client.get(reverse("shop:catalog")).content.decode()
    assert f'data-testid="signed-in-as">{user.email}' in html
    assert "by session" in html
    assert f'action="{reverse("accounts:logout")}"' in html
