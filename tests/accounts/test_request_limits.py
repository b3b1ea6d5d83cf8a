"""
Every place that checks a password or answers for an address is limited: the old-password
check of both edges shares the account's sign-in counter, and sign-up and password-reset
requests have a per-address limit of their own (a form error with 429 on the storefront,
429 with the JSON error body and Retry-After on the API).
"""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import lockout
from api.exceptions import exception_handler
from tests.accounts.test_session_revocation import NEW_PASSWORD, _change_password
from tests.support.api import bearer, obtain
from tests.support.counting_hasher import COUNTING_HASHERS, CountingMD5PasswordHasher
from tests.support.storefront import sign_in

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def limit(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    return 3


def test_storefront_password_change_locks_after_the_limit_even_with_the_right_old_password(
    client, user, password, limit, settings
):
    sign_in(client, user, password)
    for _ in range(limit):
        assert _change_password(client, "not-my-password").status_code == 200
    settings.PASSWORD_HASHERS = COUNTING_HASHERS
    CountingMD5PasswordHasher.reset()
    response = _change_password(client, password)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert CountingMD5PasswordHasher.checked == 0
    user.refresh_from_db()
    assert user.check_password(password)


def test_storefront_password_change_failures_lock_the_sign_in_too(client, user, password, limit):
    sign_in(client, user, password)
    for _ in range(limit):
        _change_password(client, "not-my-password")
    assert sign_in(Client(REMOTE_ADDR="192.0.2.50"), user, password).status_code == 429


def test_api_password_change_is_refused_once_the_sign_in_counter_is_full(
    user, password, limit, settings
):
    api = APIClient(enforce_csrf_checks=True)
    access = obtain(api, user.email, password).json()["access"]
    for _ in range(limit):
        sign_in(Client(REMOTE_ADDR="192.0.2.60"), user, "not-my-password")
    settings.PASSWORD_HASHERS = COUNTING_HASHERS
    CountingMD5PasswordHasher.reset()
    response = api.post(
        reverse("api:password_change"),
        {"old_password": password, "new_password": NEW_PASSWORD},
        format="json",
        **bearer(access),
    )
    assert response.status_code == 429
    assert response.json()["code"] == "login_locked"
    assert int(response["Retry-After"]) > 0
    assert CountingMD5PasswordHasher.checked == 0


def _api_change_password(api, access, old_password):
    return api.post(
        reverse("api:password_change"),
        {"old_password": old_password, "new_password": NEW_PASSWORD},
        format="json",
        **bearer(access),
    )


def test_api_password_change_locks_after_the_limit_even_with_the_right_old_password(
    user, password, limit, settings
):
    api = APIClient(enforce_csrf_checks=True)
    access = obtain(api, user.email, password).json()["access"]
    for _ in range(limit):
        response = _api_change_password(api, access, "not-my-password")
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["old_password"]
    settings.PASSWORD_HASHERS = COUNTING_HASHERS
    CountingMD5PasswordHasher.reset()
    response = _api_change_password(api, access, password)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert CountingMD5PasswordHasher.checked == 0
    user.refresh_from_db()
    assert user.check_password(password)
    # The same answer as the token endpoint gives while the account is locked.
    locked_sign_in = obtain(APIClient(), user.email, password)
    assert locked_sign_in.status_code == 429
    assert response.json() == locked_sign_in.json()
    assert response.json()["code"] == "login_locked"


def test_api_password_change_failures_lock_the_sign_in_too(user, password, limit):
    api = APIClient(enforce_csrf_checks=True)
    access = obtain(api, user.email, password).json()["access"]
    for _ in range(limit):
        _api_change_password(api, access, "not-my-password")
    assert sign_in(Client(REMOTE_ADDR="192.0.2.51"), user, password).status_code == 429
    assert obtain(APIClient(REMOTE_ADDR="192.0.2.52"), user.email, password).status_code == 429


def _sign_up(client, n):
    return client.post(
        reverse("accounts:signup"),
        {
            "email": f"new{n}@example.com",
            "password": "plenty-long-passphrase",
            "password_confirm": "plenty-long-passphrase",
        },
    )


def test_sign_up_is_refused_with_a_form_error_after_the_per_address_limit(settings):
    settings.SIGNUP_LIMIT_PER_ADDRESS = 2
    for n in range(2):
        assert _sign_up(Client(), n).status_code == 302
    response = _sign_up(Client(), 99)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many" in response.content.decode()
    assert not User.objects.filter(email="new99@example.com").exists()
    assert _sign_up(Client(REMOTE_ADDR="192.0.2.77"), 100).status_code == 302


def _reset(client, email):
    return client.post(reverse("accounts:password_reset"), {"email": email})


def test_password_reset_requests_are_refused_after_the_per_address_limit(user, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 2
    for _ in range(2):
        assert _reset(Client(), user.email).status_code == 302
    assert len(mail.outbox) == 2
    response = _reset(Client(), user.email)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many" in response.content.decode()
    assert len(mail.outbox) == 2
    assert _reset(Client(REMOTE_ADDR="192.0.2.78"), user.email).status_code == 302


def test_the_api_error_handler_turns_an_address_limit_into_429_json_with_retry_after(settings):
    settings.SIGNUP_LIMIT_PER_ADDRESS = 1
    request = RequestFactory().post("/api/", REMOTE_ADDR="192.0.2.90")
    lockout.address_attempt_record(request=request, action=lockout.SIGNUP)
    with pytest.raises(lockout.TooManyRequests) as excinfo:
        lockout.address_attempt_record(request=request, action=lockout.SIGNUP)
    response = exception_handler(excinfo.value, {"request": request})
    assert response.status_code == 429
    assert response.data["code"] == "throttled"
    assert "Too many" in response.data["detail"]
    assert int(response["Retry-After"]) > 0
