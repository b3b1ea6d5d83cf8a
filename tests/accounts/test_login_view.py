"""Signing in and out of the storefront, on both session stores."""

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import SignIn
from accounts.services import INVALID_CREDENTIALS_MESSAGE
from shop.models import Cart
from tests.support.factories import ProductFactory
from tests.support.storefront import me, session_exists, session_key, sign_in

pytestmark = pytest.mark.django_db


def test_sign_in_redirects_and_the_session_knows_the_user(client, user, password, session_store):
    response = sign_in(client, user, password)
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:catalog")
    assert me(client).json()["email"] == user.email


def test_sign_in_issues_a_new_session_key_and_drops_the_old_one(
    client, user, password, session_store
):
    product = ProductFactory()
    client.post(reverse("shop:product_detail", args=[product.slug]), {"quantity": 1})
    anonymous_key = session_key(client)
    assert session_exists(anonymous_key)

    sign_in(client, user, password)

    assert session_key(client) != anonymous_key
    assert not session_exists(anonymous_key)
    assert session_exists(session_key(client))


def test_sign_in_carries_the_anonymous_cart_into_the_users_cart(
    client, user, password, session_store
):
    product = ProductFactory(stock=5)
    client.post(reverse("shop:product_detail", args=[product.slug]), {"quantity": 2})
    sign_in(client, user, password)
    cart = Cart.objects.get(user=user)
    assert [(line.product, line.quantity) for line in cart.lines.all()] == [(product, 2)]
    assert not Cart.objects.filter(user__isnull=True).exists()


def test_sign_in_records_the_device_in_the_sign_in_index(client, user, password, session_store):
    sign_in(client, user, password)
    sign_in_row = SignIn.objects.get(user=user)
    assert sign_in_row.kind == SignIn.Kind.SESSION
    assert sign_in_row.session_key == session_key(client)
    assert sign_in_row.ip_address == "127.0.0.1"
    assert "Firefox" in sign_in_row.user_agent


@pytest.mark.parametrize(
    ("email", "pw"),
    [("nobody@example.com", "whatever-pass"), (None, "wrong-password")],
    ids=["unknown email", "wrong password"],
)
def test_failed_sign_in_shows_one_generic_error(client, user, email, pw):
    response = client.post(
        reverse("accounts:login"), {"username": email or user.email, "password": pw}
    )
    assert response.status_code == 200
    assert INVALID_CREDENTIALS_MESSAGE in response.content.decode()
    assert me(client).status_code == 401


def test_an_inactive_account_gets_the_same_generic_error(client, user, password):
    user.is_active = False
    user.save()
    response = sign_in(client, user, password)
    assert INVALID_CREDENTIALS_MESSAGE in response.content.decode()
    assert me(client).status_code == 401


def test_after_the_failure_limit_the_right_password_gets_429_with_a_clear_message(
    client, user, password, settings
):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        assert sign_in(client, user, "wrong-password").status_code == 200
    response = sign_in(client, user, password)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= settings.LOGIN_LOCKOUT_SECONDS
    assert me(client).status_code == 401


def test_one_address_is_refused_after_the_limit_across_accounts(client, user, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):
        client.post(reverse("accounts:login"), {"username": f"x{n}@example.com", "password": "x"})
    assert sign_in(client, user, password).status_code == 429


def test_the_admin_login_is_locked_out_too(client, settings, password):
    from tests.support.factories import UserFactory

    staff = UserFactory(is_staff=True, password=password)
    settings.LOGIN_FAILURE_LIMIT = 2
    login_url = reverse("admin:login")
    for _ in range(2):
        client.post(login_url, {"username": staff.email, "password": "nope"})
    response = client.post(login_url, {"username": staff.email, "password": password})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_staff_sign_in_to_the_admin_is_indexed_and_lands_on_the_admin(client, password):
    from tests.support.factories import UserFactory

    staff = UserFactory(is_staff=True, password=password)
    response = client.post(reverse("admin:login"), {"username": staff.email, "password": password})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200
    assert SignIn.objects.filter(user=staff, ended_at__isnull=True).count() == 1


def test_next_redirects_within_the_site(client, user, password):
    response = sign_in(client, user, password, data={"next": reverse("shop:order_list")})
    assert response["Location"] == reverse("shop:order_list")


@pytest.mark.parametrize(
    "target", ["https://evil.example/steal", "//evil.example/", "javascript:alert(1)"]
)
def test_next_pointing_off_site_is_ignored(client, user, password, target):
    response = sign_in(client, user, password, data={"next": target})
    assert response["Location"] == reverse("shop:catalog")


def test_the_session_cookie_is_httponly_and_samesite_lax(client, user, password):
    sign_in(client, user, password)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_without_remember_me_the_cookie_ends_with_the_browser(client, user, password):
    sign_in(client, user, password)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"]
    assert not cookie["expires"]


def test_remember_me_makes_the_cookie_outlive_the_browser(client, user, password, settings):
    sign_in(client, user, password, remember=True)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_REMEMBER_ME_SECONDS


def test_logout_is_post_only(client, user, password):
    sign_in(client, user, password)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert me(client).status_code == 200


@pytest.mark.both_paths
def test_logout_deletes_the_session_from_the_store_and_ends_the_sign_in(
    client, user, password, session_store
):
    sign_in(client, user, password)
    key = session_key(client)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert not session_exists(key)
    assert SignIn.objects.get(user=user).end_reason == SignIn.EndReason.SIGNED_OUT
    assert me(client).status_code == 401


def test_logout_needs_a_csrf_token(user, password):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.post(reverse("accounts:logout")).status_code == 403


def test_the_login_page_carries_a_csrf_token_and_labelled_fields(client):
    html = client.get(reverse("accounts:login")).content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<label for="id_username">Email' in html
    assert '<label for="id_password">Password' in html


def test_a_login_error_is_tied_to_its_field(client):
    response = client.post(reverse("accounts:login"), {"username": "not-an-email", "password": ""})
    html = response.content.decode()
    assert 'id="id_username_error"' in html
    assert 'aria-describedby="id_username_error"' in html
    assert 'aria-invalid="true"' in html
