"""
The cells of docs/comparison.md's revocation-latency table that no other test pins down:
how long each credential keeps working after each event, in each mode. The table names
these tests and, for the other cells, the tests in tests/accounts and tests/api.
"""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services
from accounts.models import SignIn
from tests.support.api import bearer, claims_of, obtain
from tests.support.storefront import age_session, me, session_key, sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-42"


def api_me(access):
    return APIClient().get(reverse("api:me"), **bearer(access))


def api_cart(access):
    return APIClient().get(reverse("api:cart"), **bearer(access))


def token_pair(user, password):
    response = obtain(APIClient(), user.email, password)
    assert response.status_code == 200
    return response.json()


def copy_of(browser):
    """A second browser holding a copy of ``browser``'s session cookie (a stolen cookie)."""
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = session_key(browser)
    return thief


def admin_signs_out(admin_client, user):
    response = admin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "sign_out_everywhere", "_selected_action": [user.pk]},
    )
    assert response.status_code == 302


def revoke_token_sign_in(user, pair):
    services.sign_in_revoke(user=user, sign_in_id=claims_of(pair["access"])["sid"])


# --- Sessions in a server-side store (database, Redis) --------------------------------------


@pytest.mark.both_paths
def test_a_stolen_session_cookie_dies_the_moment_its_session_is_revoked(
    user, password, session_store
):
    victim = Client()
    sign_in(victim, user, password)
    thief = copy_of(victim)
    assert me(thief).status_code == 200
    sign_in_id = SignIn.objects.get(user=user, kind=SignIn.Kind.SESSION).pk
    victim.post(reverse("accounts:device_revoke", args=[sign_in_id]))
    assert me(thief).status_code == 401


@pytest.mark.both_paths
def test_a_stolen_session_cookie_dies_when_the_victim_changes_password(
    user, password, session_store
):
    victim = Client()
    sign_in(victim, user, password)
    thief = copy_of(victim)
    response = victim.post(
        reverse("accounts:password_change"),
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert me(thief).status_code == 401
    assert me(victim).status_code == 200  # The victim's session moved to a new key.


# --- Signed-cookie sessions: the server has nothing to delete -------------------------------


@pytest.mark.both_paths
class TestSignedCookieSessions:
    """
    A signed-cookie session cannot be deleted: an ending reaches it at its next activity
    check, except a new password or a deactivation, which Django's middleware sees on the
    next request (the fast path's snapshot, at its next re-check of the row).
    """

    @pytest.fixture(autouse=True)
    def signed_cookies(self, settings):
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"

    @pytest.fixture
    def phone(self, user, password):
        browser = Client()
        sign_in(browser, user, password)
        return browser

    def _until_the_activity_check(self, browser, settings):
        assert me(browser).status_code == 200
        age_session(browser, since_activity=settings.SESSION_ACTIVITY_THROTTLE_SECONDS + 1)
        assert me(browser).status_code == 401

    def _refused_by_the_user_row(self, browser, settings, auth_path):
        if auth_path == "fast":
            self._until_the_activity_check(browser, settings)
        else:
            assert me(browser).status_code == 401

    def test_after_sign_out_a_copy_of_the_cookie_works_until_its_activity_check(
        self, phone, settings
    ):
        thief = copy_of(phone)
        phone.post(reverse("accounts:logout"))
        assert me(phone).status_code == 401
        self._until_the_activity_check(thief, settings)

    def test_after_a_password_change_elsewhere_the_cookie_is_refused_by_the_user_row(
        self, auth_path, phone, user, password, settings
    ):
        laptop = Client()
        sign_in(laptop, user, password)
        response = laptop.post(
            reverse("accounts:password_change"),
            {
                "old_password": password,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        assert response.status_code == 302
        self._refused_by_the_user_row(phone, settings, auth_path)

    def test_after_deactivation_the_cookie_is_refused_by_the_user_row(
        self, auth_path, phone, user, settings
    ):
        services.user_deactivate(user=user)
        self._refused_by_the_user_row(phone, settings, auth_path)

    def test_after_an_admin_sign_out_the_cookie_works_until_its_activity_check(
        self, phone, user, admin_client, settings
    ):
        admin_signs_out(admin_client, user)
        self._until_the_activity_check(phone, settings)


# --- JWT access tokens with the user looked up in the database (the default) ----------------


@pytest.mark.both_paths
class TestAccessTokenWithDatabaseLookup:
    @pytest.fixture(autouse=True)
    def db_lookup(self, settings):
        settings.JWT_USER_LOOKUP = "db"
        settings.JWT_ACCESS_DENYLIST = False

    def test_an_admin_sign_out_leaves_the_access_token_working(self, user, password, admin_client):
        pair = token_pair(user, password)
        admin_signs_out(admin_client, user)
        assert api_me(pair["access"]).status_code == 200

    def test_a_stolen_access_token_outlives_the_victim_revoking_its_sign_in(self, user, password):
        pair = token_pair(user, password)
        revoke_token_sign_in(user, pair)
        assert api_me(pair["access"]).status_code == 200
        assert api_cart(pair["access"]).status_code == 200

    def test_a_revoked_sign_in_s_access_token_stops_at_its_expiry(self, user, password, settings):
        settings.SIMPLE_JWT = {
            **settings.SIMPLE_JWT,
            # exp is whole seconds, so a token lives (lifetime - 1, lifetime]: keep a margin.
            "ACCESS_TOKEN_LIFETIME": timedelta(seconds=3),
            "LEEWAY": 0,
        }
        pair = token_pair(user, password)
        revoke_token_sign_in(user, pair)
        assert api_me(pair["access"]).status_code == 200
        time.sleep(max(0.0, claims_of(pair["access"])["exp"] - time.time()) + 1.05)
        assert api_me(pair["access"]).status_code == 401


# --- JWT access tokens checked from their claims alone (stateless) --------------------------


@pytest.mark.both_paths
class TestStatelessAccessToken:
    @pytest.fixture(autouse=True)
    def stateless(self, settings):
        settings.JWT_USER_LOOKUP = "stateless"
        settings.JWT_ACCESS_DENYLIST = False

    def test_logout_leaves_the_access_token_working(self, user, password):
        pair = token_pair(user, password)
        response = APIClient().post(
            reverse("api:logout"), {"refresh": pair["refresh"]}, format="json"
        )
        assert response.status_code == 204
        assert api_me(pair["access"]).status_code == 200

    def test_after_a_password_change_the_token_still_reads_me_but_no_data(self, user, password):
        pair = token_pair(user, password)
        services.user_password_change(user=user, new_password=NEW_PASSWORD)
        assert api_me(pair["access"]).status_code == 200
        assert api_cart(pair["access"]).status_code == 401

    def test_an_admin_sign_out_leaves_the_access_token_working(self, user, password, admin_client):
        pair = token_pair(user, password)
        admin_signs_out(admin_client, user)
        assert api_me(pair["access"]).status_code == 200

    def test_a_stolen_access_token_outlives_the_victim_revoking_its_sign_in(self, user, password):
        pair = token_pair(user, password)
        revoke_token_sign_in(user, pair)
        assert api_me(pair["access"]).status_code == 200


# --- JWT access tokens, stateless, with the Redis denylist ---------------------------------


@pytest.mark.redis
@pytest.mark.both_paths
class TestAccessTokenWithTheDenylist:
    @pytest.fixture(autouse=True)
    def stateless_with_denylist(self, settings, denylist_on):
        settings.JWT_USER_LOOKUP = "stateless"

    def test_logout_kills_the_access_token_at_once(
        self, user, password, django_capture_on_commit_callbacks
    ):
        pair = token_pair(user, password)
        with django_capture_on_commit_callbacks(execute=True):
            APIClient().post(reverse("api:logout"), {"refresh": pair["refresh"]}, format="json")
        assert api_me(pair["access"]).status_code == 401

    def test_a_password_change_kills_the_other_sign_ins_access_tokens_at_once(
        self, user, password, django_capture_on_commit_callbacks
    ):
        pair = token_pair(user, password)
        with django_capture_on_commit_callbacks(execute=True):
            services.user_password_change(user=user, new_password=NEW_PASSWORD)
        assert api_me(pair["access"]).status_code == 401

    def test_an_admin_sign_out_kills_the_access_token_at_once(
        self, user, password, admin_client, django_capture_on_commit_callbacks
    ):
        pair = token_pair(user, password)
        with django_capture_on_commit_callbacks(execute=True):
            admin_signs_out(admin_client, user)
        assert api_me(pair["access"]).status_code == 401

    def test_a_stolen_access_token_dies_when_the_victim_revokes_its_sign_in(
        self, user, password, django_capture_on_commit_callbacks
    ):
        pair = token_pair(user, password)
        with django_capture_on_commit_callbacks(execute=True):
            revoke_token_sign_in(user, pair)
        assert api_me(pair["access"]).status_code == 401
