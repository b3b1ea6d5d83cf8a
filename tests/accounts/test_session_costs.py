"""
What a signed-in request costs: with sessions in Redis, /accounts/me/ needs one Redis
round trip and no database query; /healthz touches neither.
"""

import pytest
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import SignIn
from tests.support.storefront import age_session, me, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]

# Django's AuthenticationMiddleware loads the user row on every request; the fast path
# builds the user from a snapshot in the session (fastpath/sessions.py).
USER_ROW = {"stock": 1, "fast": 0}


def test_me_returns_the_signed_in_user_as_json(client, user, password, session_store):
    sign_in(client, user, password)
    response = me(client)
    assert response.status_code == 200
    assert response.json() == {"id": user.pk, "email": user.email}
    assert "no-store" in response["Cache-Control"]


def test_me_signed_out_is_a_401_json(client):
    response = me(client)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.redis
def test_me_with_redis_sessions_runs_only_the_user_query_on_stock_and_none_on_fast(
    auth_path, client, user, password, redis_sessions, django_assert_num_queries
):
    sign_in(client, user, password)
    with django_assert_num_queries(USER_ROW[auth_path]):
        assert me(client).status_code == 200


@pytest.mark.redis
def test_me_with_redis_sessions_needs_one_redis_round_trip(
    client, user, password, redis_sessions, redis_commands
):
    sign_in(client, user, password)
    redis_commands.clear()
    assert me(client).status_code == 200
    assert redis_commands == ["GET"]


def test_me_with_database_sessions_runs_the_session_query_and_on_stock_the_user_query(
    auth_path, client, user, password, settings, django_assert_num_queries
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    sign_in(client, user, password)
    with django_assert_num_queries(1 + USER_ROW[auth_path]) as queries:
        assert me(client).json()["email"] == user.email
    assert "django_session" in queries.captured_queries[0]["sql"]


@pytest.mark.redis
def test_revocation_still_takes_effect_on_the_very_next_fast_request(
    user, password, redis_sessions
):
    laptop, phone = Client(), Client()
    sign_in(laptop, user, password)
    sign_in(phone, user, password)
    assert me(phone).status_code == 200
    services.user_sign_out_everywhere(user=user, reason=SignIn.EndReason.SIGNED_OUT_EVERYWHERE)
    assert me(phone).status_code == 401
    assert me(laptop).status_code == 401


def _statements(queries) -> list[str]:
    # The session store's own atomic() block shows up as savepoints inside a test's
    # transaction; they are not round trips of the request's making.
    return [
        q["sql"].split()[0]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def test_the_activity_check_costs_two_queries_once_per_throttle_period(
    auth_path, client, user, password, settings, django_assert_max_num_queries
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    sign_in(client, user, password)
    age_session(client, since_activity=settings.SESSION_ACTIVITY_THROTTLE_SECONDS + 1)
    with django_assert_max_num_queries(10) as queries:
        assert me(client).status_code == 200
    # Session read; user re-read; SignIn touch; session write.
    assert _statements(queries) == ["SELECT", "SELECT", "UPDATE", "UPDATE"]
    with django_assert_max_num_queries(10) as queries:
        assert me(client).status_code == 200
    assert _statements(queries) == ["SELECT"] * (1 + USER_ROW[auth_path])


def test_healthz_touches_neither_database_nor_session(
    client, user, password, session_store, django_assert_num_queries
):
    sign_in(client, user, password)
    with django_assert_num_queries(0):
        response = client.get(reverse("shop:healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.redis
def test_healthz_sends_nothing_to_redis(client, redis_sessions, redis_commands):
    assert client.get(reverse("shop:healthz")).status_code == 200
    assert redis_commands == []


class TestSignedCookieSessions:
    """
    Signed-cookie sessions live in the browser: the server cannot delete them, so a
    revoked one keeps working until its next activity check. This is a property of the
    store, shown here rather than hidden.
    """

    @pytest.fixture(autouse=True)
    def signed_cookies(self, settings):
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"

    def test_a_revoked_signed_cookie_works_until_its_next_activity_check(
        self, user, password, settings
    ):
        laptop, phone = Client(), Client()
        sign_in(laptop, user, password)
        sign_in(phone, user, password)
        laptop.post(reverse("accounts:devices_sign_out_others"))

        assert me(phone).status_code == 200
        age_session(phone, since_activity=settings.SESSION_ACTIVITY_THROTTLE_SECONDS + 1)
        assert me(phone).status_code == 401

    def test_signing_out_clears_this_browsers_cookie(self, client, user, password):
        sign_in(client, user, password)
        client.post(reverse("accounts:logout"))
        assert me(client).status_code == 401

    def test_a_signed_cookie_sign_in_is_listed_without_a_session_key(self, client, user, password):
        sign_in(client, user, password)
        sign_in_row = SignIn.objects.get(user=user)
        assert sign_in_row.session_key is None
        assert "this device" in client.get(reverse("accounts:devices")).content.decode()
