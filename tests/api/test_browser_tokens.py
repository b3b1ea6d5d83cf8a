"""
The browser token endpoints (api/browser_views.py): the refresh token in an HttpOnly cookie,
CSRF-checked, and the same token sign-ins as the bearer endpoints, revoked by the same rules.
"""

import os
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import SignIn
from api.browser_views import COOKIE_PATH
from api.checks import browser_refresh_cookie_check, browser_refresh_cookie_secure_check
from api.keys import token_backend
from tests.support.api import BrowserTokenClient, bearer, claims_of, forge, obtain
from tests.support.factories import UserFactory
from tests.support.processes import manage
from tests.support.threads import repeat, run_in_threads

pytestmark = pytest.mark.django_db

ENDPOINTS = ["browser_token_obtain", "browser_token_refresh", "browser_logout"]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "x7Kq2-unique-enough-production-secret-for-the-deploy-check-9fZ",
    "JWT_SIGNING_KEY": "Jw7-a-separate-jwt-signing-key-of-at-least-256-bits-Qp4",
    "ALLOWED_HOSTS": "shop.example.com",
}


@pytest.fixture
def browser():
    return BrowserTokenClient()


@pytest.fixture
def signed_in(browser, user, password):
    """A browser signed in as ``user`` through the browser token endpoint."""
    response = browser.sign_in(user.email, password)
    assert response.status_code == 200, response.content
    return browser


def refresh_cookie(response, settings):
    return response.cookies[settings.BROWSER_REFRESH_COOKIE_NAME]


def sign_in_of(browser) -> SignIn:
    return SignIn.objects.get(pk=claims_of(browser.cookie)["sid"])


def assert_refused(response, settings, code="token_not_valid"):
    assert response.status_code == 401, response.content
    assert response.json()["code"] == code
    cleared = refresh_cookie(response, settings)
    assert (cleared.value, cleared["max-age"], cleared["path"]) == ("", 0, COOKIE_PATH)


# --- The cookie ---------------------------------------------------------------------------


def test_sign_in_sets_the_refresh_token_in_an_httponly_strict_cookie_of_the_browser_path(
    browser, user, password, settings
):
    response = browser.sign_in(user.email, password)
    cookie = refresh_cookie(response, settings)
    assert settings.BROWSER_REFRESH_COOKIE_NAME == "browser_refresh"
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == COOKIE_PATH == "/api/auth/browser/"
    assert cookie["secure"] == ""  # Plain HTTP in development and tests.
    lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds()
    assert lifetime - 1 <= cookie["max-age"] <= lifetime
    assert claims_of(cookie.value)["token_type"] == "refresh"


def test_the_cookie_path_covers_the_three_browser_endpoints_and_nothing_else_of_the_api():
    assert all(reverse(f"api:{name}").startswith(COOKIE_PATH) for name in ENDPOINTS)
    assert not reverse("api:token_refresh").startswith(COOKIE_PATH)


def test_the_cookie_never_outlives_the_sign_in_s_absolute_limit(browser, user, password, settings):
    settings.JWT_REFRESH_MAX_AGE_SECONDS = 60
    cookie = refresh_cookie(browser.sign_in(user.email, password), settings)
    assert 59 <= cookie["max-age"] <= 60


def test_under_production_settings_the_cookie_is_secure_and_prefixed(
    browser, user, password, settings
):
    code = (
        "from django.conf import settings as s; "
        "print(s.BROWSER_REFRESH_COOKIE_NAME, s.BROWSER_REFRESH_COOKIE_SECURE, "
        "s.CSRF_COOKIE_HTTPONLY)"
    )
    result = manage("shell", "--no-imports", "-c", code, env={**_parent_env(), **PRODUCTION_ENV})
    assert result.returncode == 0, result.stderr
    name, secure, csrf_httponly = result.stdout.split()
    assert (name, secure) == ("__Secure-browser_refresh", "True")
    assert csrf_httponly == "False"  # The page's script reads the CSRF token from it.
    settings.BROWSER_REFRESH_COOKIE_NAME = name
    settings.BROWSER_REFRESH_COOKIE_SECURE = True
    cookie = refresh_cookie(browser.sign_in(user.email, password), settings)
    assert (cookie["secure"], cookie["httponly"], cookie["path"]) == (True, True, COOKIE_PATH)
    cleared = refresh_cookie(browser.logout(), settings)
    assert (cleared["secure"], cleared["max-age"]) == (True, 0)


def test_a_secure_prefixed_name_without_secure_is_refused_at_start(settings):
    settings.BROWSER_REFRESH_COOKIE_NAME = "__Secure-browser_refresh"
    assert [e.id for e in browser_refresh_cookie_check(None)] == ["api.E007"]
    settings.BROWSER_REFRESH_COOKIE_SECURE = True
    assert browser_refresh_cookie_check(None) == []


def test_the_deploy_check_warns_about_a_refresh_cookie_that_is_not_secure(settings):
    assert [w.id for w in browser_refresh_cookie_secure_check(None)] == ["api.W001"]
    settings.BROWSER_REFRESH_COOKIE_SECURE = True
    assert browser_refresh_cookie_secure_check(None) == []


def _parent_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS"}}


# --- Sign-in, refresh, logout ---------------------------------------------------------------


def test_no_answer_carries_the_refresh_token_in_its_body(browser, user, password):
    for response in (browser.sign_in(user.email, password), browser.refresh()):
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access", "access_expires_at"}
        assert body["access_expires_at"] == claims_of(body["access"])["exp"]
        assert browser.cookie not in response.content.decode()


def test_the_access_token_is_a_bearer_token_of_the_api(signed_in):
    access = signed_in.refresh().json()["access"]
    assert APIClient().get(reverse("api:me"), **bearer(access)).status_code == 200


def test_sign_in_keeps_the_token_endpoint_s_normalisation_answers_and_lockout(
    browser, user, password, settings
):
    assert browser.sign_in(f" {user.email.upper()}", password).status_code == 200
    wrong = browser.sign_in(user.email, "wrong")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_login")
    assert settings.BROWSER_REFRESH_COOKIE_NAME not in wrong.cookies
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        locked = browser.sign_in(user.email, "wrong")
    assert locked.status_code == 429
    assert locked.json()["retry_after"] > 0
    assert browser.sign_in(user.email, password).status_code == 429


def test_refresh_rotates_the_cookie(signed_in, settings):
    first = signed_in.cookie
    response = signed_in.refresh()
    assert response.status_code == 200
    assert refresh_cookie(response, settings)["path"] == COOKIE_PATH
    assert signed_in.cookie != first
    assert BlacklistedToken.objects.filter(token__jti=claims_of(first)["jti"]).exists()


def test_the_old_cookie_within_the_reuse_interval_gets_the_same_successor(signed_in):
    first = signed_in.cookie
    signed_in.refresh()
    successor = signed_in.cookie
    signed_in.cookie = first
    assert signed_in.refresh().status_code == 200
    assert signed_in.cookie == successor
    assert sign_in_of(signed_in).ended_at is None


@pytest.mark.both_paths
def test_the_old_cookie_after_the_reuse_interval_ends_that_sign_in_only(
    signed_in, api, user, password, settings
):
    other = obtain(api, user.email, password).json()
    first = signed_in.cookie
    signed_in.refresh()
    BlacklistedToken.objects.filter(token__jti=claims_of(first)["jti"]).update(
        blacklisted_at=timezone.now()
        - timedelta(seconds=settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS + 1)
    )
    signed_in.cookie = first
    assert_refused(signed_in.refresh(), settings)
    assert SignIn.objects.get(pk=claims_of(first)["sid"]).end_reason == SignIn.EndReason.TOKEN_REUSE
    refreshed = api.post(reverse("api:token_refresh"), {"refresh": other["refresh"]}, format="json")
    assert refreshed.status_code == 200


@pytest.mark.both_paths
def test_logout_ends_the_sign_in_and_clears_the_cookie(signed_in, settings):
    cookie, sign_in = signed_in.cookie, sign_in_of(signed_in)
    response = signed_in.logout()
    assert response.status_code == 204
    cleared = refresh_cookie(response, settings)
    assert (cleared.value, cleared["max-age"], cleared["path"]) == ("", 0, COOKIE_PATH)
    sign_in.refresh_from_db()
    assert sign_in.end_reason == SignIn.EndReason.SIGNED_OUT
    signed_in.cookie = cookie
    assert_refused(signed_in.refresh(), settings)


def test_logout_without_a_cookie_is_no_error(browser, settings):
    response = browser.logout()
    assert response.status_code == 204
    assert refresh_cookie(response, settings)["max-age"] == 0


# --- CSRF -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize("token", [None, "x" * 32], ids=["no-header", "wrong-header"])
def test_every_browser_endpoint_refuses_a_request_without_the_csrf_token(
    signed_in, user, password, name, token
):
    cookie = signed_in.cookie
    headers = {} if token is None else {"HTTP_X_CSRFTOKEN": token}
    response = signed_in.client.post(
        reverse(f"api:{name}"),
        {"email": user.email, "password": password},
        format="json",
        **headers,
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF verification failed.", "code": "csrf_failed"}
    assert not response.cookies.get("browser_refresh")
    assert SignIn.objects.filter(user=user).count() == 1
    assert sign_in_of(signed_in).ended_at is None
    assert signed_in.cookie == cookie
    assert not BlacklistedToken.objects.exists()


def test_without_the_csrf_cookie_the_header_alone_is_refused(signed_in, settings):
    del signed_in.client.cookies[settings.CSRF_COOKIE_NAME]
    assert signed_in.refresh().status_code == 403


# --- Hostile input ----------------------------------------------------------------------------


def _hostile_cookies(signed_in, access: str) -> dict[str, str]:
    genuine = signed_in.cookie
    head, body, _ = genuine.split(".")
    return {
        "garbage": "not-a-token",
        "truncated": genuine[:-12],
        "forged with another key": forge({"alg": "HS256", "typ": "JWT"}, claims_of(genuine)),
        "alg none": forge({"alg": "none", "typ": "JWT"}, claims_of(genuine)),
        "tampered claims": f"{head}.{body[:-4]}AAAA.{genuine.split('.')[2]}",
        "an access token": access,
        "expired": token_backend().encode({**claims_of(genuine), "exp": int(time.time()) - 60}),
        "oversize": genuine + "x" * 8000,
    }


@pytest.mark.both_paths
def test_every_hostile_cookie_is_a_401_that_clears_it_and_ends_nothing(signed_in, settings):
    access = signed_in.refresh().json()["access"]
    genuine = signed_in.cookie
    for name, value in _hostile_cookies(signed_in, access).items():
        signed_in.cookie = value
        response = signed_in.refresh()
        assert response.status_code == 401, name
        assert set(response.json()) == {"detail", "code"}, name
        assert refresh_cookie(response, settings).value == "", name
    signed_in.cookie = genuine
    assert signed_in.refresh().status_code == 200


@pytest.mark.both_paths
def test_a_bearer_refresh_token_planted_in_the_cookie_is_refused_and_ends_nothing(
    browser, api, other_user, password, settings
):
    # A refresh token says which kind of client it was issued to: one from the bearer
    # endpoint is foreign here (say, the attacker's own, planted to sign the victim in as
    # the attacker), whoever holds it.
    theirs = obtain(api, other_user.email, password).json()
    browser.cookie = theirs["refresh"]
    assert_refused(browser.refresh(), settings)
    refreshed = api.post(
        reverse("api:token_refresh"), {"refresh": theirs["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200  # still its own sign-in's, at its own endpoint


@pytest.mark.both_paths
def test_the_cookie_s_refresh_token_is_refused_at_the_bearer_endpoint(signed_in, api):
    # Were the HttpOnly value ever to leak, it would not work as a bearer refresh token.
    cookie = signed_in.cookie
    response = api.post(reverse("api:token_refresh"), {"refresh": cookie}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert signed_in.refresh().status_code == 200  # and the browser's sign-in lives on


def test_no_cookie_and_an_empty_cookie_are_refused(browser, settings):
    assert_refused(browser.refresh(), settings)
    browser.cookie = ""
    assert_refused(browser.refresh(), settings)


def test_a_hostile_cookie_on_logout_is_a_401_json_never_a_500(signed_in, settings):
    signed_in.cookie = "not-a-token"
    assert_refused(signed_in.logout(), settings)


@pytest.mark.both_paths
def test_a_cookie_replayed_after_logout_is_refused(signed_in, settings):
    cookie = signed_in.cookie
    signed_in.logout()
    signed_in.cookie = cookie
    assert_refused(signed_in.refresh(), settings)
    signed_in.cookie = cookie
    assert signed_in.logout().status_code == 204  # Logging out twice is not an error.


def test_an_expired_cookie_is_refused(signed_in, settings):
    SignIn.objects.filter(pk=sign_in_of(signed_in).pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert_refused(signed_in.refresh(), settings)


def test_a_malformed_body_is_a_4xx_json_error(browser, user):
    response = browser.client.post(
        reverse("api:browser_token_obtain"),
        "{not json",
        content_type="application/json",
        **browser.csrf,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    response = browser.client.post(
        reverse("api:browser_token_obtain"), "[]", content_type="application/json", **browser.csrf
    )
    assert response.status_code == 400
    response = browser.client.post(
        reverse("api:browser_token_refresh"),
        "{not json",
        content_type="application/json",
        **browser.csrf,
    )
    # Refused before the cookie is looked at: the CSRF check reads the body (for a form's
    # csrfmiddlewaretoken) as Django's does.
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")


# --- The same sign-ins as the bearer ones -------------------------------------------------------


@pytest.mark.both_paths
def test_your_devices_lists_a_browser_sign_in(signed_in, user):
    (device,) = account_selectors.user_devices(user=user)
    assert device.sign_in == sign_in_of(signed_in)
    assert device.sign_in.kind == SignIn.Kind.TOKEN


@pytest.mark.both_paths
def test_revoking_from_your_devices_refuses_the_next_cookie_refresh(signed_in, user, settings):
    account_services.sign_in_revoke(user=user, sign_in_id=sign_in_of(signed_in).pk)
    assert_refused(signed_in.refresh(), settings)


@pytest.mark.both_paths
def test_logout_everywhere_refuses_the_next_cookie_refresh(signed_in, settings):
    access = signed_in.refresh().json()["access"]
    response = APIClient().post(reverse("api:logout_all"), **bearer(access))
    assert response.status_code == 204
    assert_refused(signed_in.refresh(), settings)


@pytest.mark.both_paths
def test_a_password_change_refuses_the_next_cookie_refresh(signed_in, user, settings):
    user.set_password("another-long-passphrase-42")
    user.save()
    assert_refused(signed_in.refresh(), settings)


@pytest.mark.both_paths
def test_deactivation_refuses_the_next_cookie_refresh(signed_in, user, settings):
    user.is_active = False
    user.save()
    assert_refused(signed_in.refresh(), settings)


@pytest.mark.both_paths
def test_the_chain_s_absolute_limit_refuses_the_next_cookie_refresh(signed_in, settings):
    # The sign-in's cap passed (JWT_REFRESH_MAX_AGE_SECONDS after sign-in) while the
    # cookie's token, rotated moments ago, has not yet expired itself.
    SignIn.objects.filter(pk=sign_in_of(signed_in).pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert claims_of(signed_in.cookie)["exp"] > timezone.now().timestamp()
    assert_refused(signed_in.refresh(), settings)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@repeat(10)
def test_two_cookie_refreshes_at_once_leave_one_live_chain():
    user = UserFactory(password="correct-horse-battery-staple")
    tab = BrowserTokenClient()
    assert tab.sign_in(user.email, "correct-horse-battery-staple").status_code == 200
    tabs = [BrowserTokenClient(), BrowserTokenClient()]
    for other in tabs:
        other.cookie = tab.cookie
    outcomes = run_in_threads([other.refresh for other in tabs])
    assert [o.status_code for o in outcomes] == [200, 200], outcomes
    assert tabs[0].cookie == tabs[1].cookie
    assert OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).count() == 1
    assert tabs[0].refresh().status_code == 200
