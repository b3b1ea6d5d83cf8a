import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from accounts.services import LoginLocked, credentials_authenticate

pytestmark = pytest.mark.django_db


def _request(ip="203.0.113.7"):
    return RequestFactory().post("/", REMOTE_ADDR=ip)


def test_right_credentials_return_the_user(user, password):
    assert credentials_authenticate(request=_request(), email=user.email, password=password) == user


def test_unknown_email_wrong_password_and_inactive_user_get_the_same_error(user, password):
    inactive = type(user).objects.create_user(email="gone@example.com", password=password)
    inactive.is_active = False
    inactive.save()
    messages = set()
    for email, pw in [
        ("nobody@example.com", password),
        (user.email, "wrong"),
        (inactive.email, password),
    ]:
        with pytest.raises(ValidationError) as excinfo:
            credentials_authenticate(request=_request(ip=None), email=email, password=pw)
        messages.add(tuple(excinfo.value.messages))
    assert len(messages) == 1


def test_the_account_locks_after_the_limit_even_with_the_right_password(user, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):
        with pytest.raises(ValidationError):
            credentials_authenticate(
                request=_request(f"198.51.100.{n}"), email=user.email, password="x"
            )
    with pytest.raises(LoginLocked) as excinfo:
        credentials_authenticate(
            request=_request("198.51.100.99"), email=user.email, password=password
        )
    assert 0 < excinfo.value.retry_after <= settings.LOGIN_LOCKOUT_SECONDS


def test_one_address_is_locked_after_the_limit_across_accounts(user, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):
        with pytest.raises(ValidationError):
            credentials_authenticate(
                request=_request(), email=f"guess{n}@example.com", password="x"
            )
    with pytest.raises(LoginLocked):
        credentials_authenticate(request=_request(), email=user.email, password=password)
    assert credentials_authenticate(
        request=_request("192.0.2.1"), email=user.email, password=password
    )


def test_a_success_clears_the_accounts_failures(user, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(2):
        with pytest.raises(ValidationError):
            credentials_authenticate(
                request=_request(f"10.0.0.{n}"), email=user.email, password="x"
            )
    credentials_authenticate(request=_request("10.0.1.1"), email=user.email, password=password)
    for n in range(2):
        with pytest.raises(ValidationError):
            credentials_authenticate(
                request=_request(f"10.0.2.{n}"), email=user.email, password="x"
            )
    assert credentials_authenticate(
        request=_request("10.0.3.1"), email=user.email, password=password
    )
