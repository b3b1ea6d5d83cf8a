"""
A password change or a deactivation made outside the site's own views — ``manage.py
changepassword``, a shell, the admin, a data migration — takes effect on the very next
request, as it does with stock ``AuthenticationMiddleware``: on every session store, for
access tokens looked up in the database or refused by the denylist, and for refresh tokens.

Only ``QuerySet.update()`` and raw SQL bypass ``Model.save()``: for those, sessions wait for
the periodic activity check (``SESSION_ACTIVITY_THROTTLE_SECONDS``) and refresh tokens are
still refused at once, because every refresh compares the password digest it carries with
the user's row.
"""

import json
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import SignIn, User
from tests.support.api import bearer, obtain
from tests.support.caches import redis_cache_settings
from tests.support.storefront import age_session, me, session_exists, session_key, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]

NEW_PASSWORD = "a-brand-new-passphrase-42"

# --- The write paths ---------------------------------------------------------------------


def change_password_in_a_shell(user):
    account = User.objects.get(pk=user.pk)
    account.set_password(NEW_PASSWORD)
    account.save()


def change_password_with_changepassword(user, monkeypatch):
    # changepassword reads the password twice from the terminal.
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", user.email, stdout=None)


def change_password_in_the_admin(user):
    admin = User.objects.create_superuser("root@example.com", "root-passphrase-42")
    client = Client()
    client.force_login(admin)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content


def historical_user_model():
    """The User model as a data migration sees it (apps.get_model in RunPython)."""
    executor = MigrationExecutor(connection)
    return executor.loader.project_state(("accounts", "0001_initial")).apps.get_model(
        "accounts", "User"
    )


def change_password_in_a_data_migration(user):
    account = historical_user_model().objects.get(pk=user.pk)
    account.password = make_password(NEW_PASSWORD)
    account.save()


def deactivate_in_a_shell(user):
    account = User.objects.get(pk=user.pk)
    account.is_active = False
    account.save()


def deactivate_in_the_admin(user):
    admin = User.objects.create_superuser("root@example.com", "root-passphrase-42")
    client = Client()
    client.force_login(admin)
    response = client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "is_staff": "",
            "is_active": "",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content


def deactivate_in_a_data_migration(user):
    account = historical_user_model().objects.get(pk=user.pk)
    account.is_active = False
    account.save()


PASSWORD_CHANGES = {
    "shell": change_password_in_a_shell,
    "changepassword": change_password_with_changepassword,
    "admin": change_password_in_the_admin,
    "data_migration": change_password_in_a_data_migration,
}
DEACTIVATIONS = {
    "shell": deactivate_in_a_shell,
    "admin": deactivate_in_the_admin,
    "data_migration": deactivate_in_a_data_migration,
}


@pytest.fixture(params=list(PASSWORD_CHANGES))
def change_password_outside(request, monkeypatch):
    write = PASSWORD_CHANGES[request.param]
    if request.param == "changepassword":
        return lambda user: write(user, monkeypatch)
    return write


@pytest.fixture(params=list(DEACTIVATIONS))
def deactivate_outside(request):
    return DEACTIVATIONS[request.param]


@pytest.fixture(
    params=[
        "db",
        pytest.param("cache", marks=pytest.mark.redis),
        pytest.param("cached_db", marks=pytest.mark.redis),
    ]
)
def server_side_store(request, settings):
    """Each session engine that keeps sessions on the server (Redis where a cache is used)."""
    if request.param != "db":
        settings.CACHES = redis_cache_settings(prefix="test-outside")
        from django.core.cache import cache

        cache.clear()
    settings.SESSION_ENGINE = settings.SESSION_ENGINES[request.param]
    return request.param


@pytest.fixture
def denylist(settings):
    """Access tokens refused through the denylist in the real Redis."""
    settings.CACHES = redis_cache_settings(prefix="test-outside")
    settings.JWT_ACCESS_DENYLIST = True
    from django.core.cache import cache

    cache.clear()


def signed_in_browser(user, password):
    browser = Client()
    assert sign_in(browser, user, password).status_code == 302
    assert me(browser).status_code == 200
    return browser


# --- Sessions ----------------------------------------------------------------------------


def test_a_password_changed_outside_the_site_ends_every_session_on_the_next_request(
    user, password, server_side_store, change_password_outside
):
    browser = signed_in_browser(user, password)
    key = session_key(browser)
    change_password_outside(user)
    assert me(browser).status_code == 401
    assert not session_exists(key)
    sign_in_row = SignIn.objects.get(user=user, kind=SignIn.Kind.SESSION)
    assert sign_in_row.end_reason == SignIn.EndReason.PASSWORD_CHANGED


def test_an_account_deactivated_outside_the_site_ends_every_session_on_the_next_request(
    user, password, server_side_store, deactivate_outside
):
    browser = signed_in_browser(user, password)
    deactivate_outside(user)
    assert me(browser).status_code == 401
    sign_in_row = SignIn.objects.get(user=user, kind=SignIn.Kind.SESSION)
    assert sign_in_row.end_reason == SignIn.EndReason.DEACTIVATED


def test_a_deactivation_loaded_from_a_fixture_ends_every_session(
    user, password, server_side_store, tmp_path
):
    browser = signed_in_browser(user, password)
    row = User.objects.filter(pk=user.pk).values()[0]
    fixture = tmp_path / "users.json"
    fields = {k: v for k, v in row.items() if k not in ("id", "last_login", "date_joined")}
    fields.update(is_active=False, date_joined="2026-01-01T00:00:00Z")
    fixture.write_text(json.dumps([{"model": "accounts.user", "pk": user.pk, "fields": fields}]))
    call_command("loaddata", str(fixture), verbosity=0)
    assert me(browser).status_code == 401


def test_a_deactivation_saved_through_a_new_instance_with_the_pk_ends_every_session(
    user, password, server_side_store
):
    browser = signed_in_browser(user, password)
    row = User.objects.filter(pk=user.pk).values()[0]
    User(**{**row, "is_active": False}).save()
    assert me(browser).status_code == 401


def test_a_user_deleted_in_a_shell_is_signed_out_on_the_next_request(
    user, password, server_side_store
):
    browser = signed_in_browser(user, password)
    key = session_key(browser)
    User.objects.filter(pk=user.pk).delete()
    assert me(browser).status_code == 401
    assert not session_exists(key)


def test_a_privilege_removed_in_a_shell_ends_the_staff_member_s_sessions(
    password, server_side_store
):
    staff = User.objects.create_user("staff@example.com", password, is_staff=True)
    browser = signed_in_browser(staff, password)
    assert browser.get(reverse("admin:index")).status_code == 200
    account = User.objects.get(pk=staff.pk)
    account.is_staff = False
    account.save()
    assert browser.get(reverse("admin:index")).status_code == 302
    assert me(browser).status_code == 401


def test_with_signed_cookies_a_password_changed_outside_ends_the_session_at_its_next_check(
    auth_path, user, password, settings, change_password_outside
):
    settings.SESSION_ENGINE = settings.SESSION_ENGINES["signed_cookies"]
    browser = signed_in_browser(user, password)
    change_password_outside(user)
    if auth_path == "stock":
        # Django's AuthenticationMiddleware compares the password digest on every request.
        assert me(browser).status_code == 401
        return
    # The cookie holds the session itself: nothing on the server can delete it, and the
    # fast path's snapshot is refused at its next activity check, which re-reads the row.
    age_session(browser, since_activity=settings.SESSION_ACTIVITY_THROTTLE_SECONDS)
    assert me(browser).status_code == 401


def test_with_signed_cookies_a_deactivation_outside_ends_the_session_at_its_next_check(
    auth_path, user, password, settings, deactivate_outside
):
    settings.SESSION_ENGINE = settings.SESSION_ENGINES["signed_cookies"]
    browser = signed_in_browser(user, password)
    deactivate_outside(user)
    if auth_path == "stock":
        assert me(browser).status_code == 401  # Django reloads the user on every request.
        return
    age_session(browser, since_activity=settings.SESSION_ACTIVITY_THROTTLE_SECONDS)
    assert me(browser).status_code == 401


def test_a_password_set_by_queryset_update_ends_the_session_at_the_next_activity_check(
    auth_path, user, password, server_side_store, settings
):
    browser = signed_in_browser(user, password)
    User.objects.filter(pk=user.pk).update(password=make_password(NEW_PASSWORD))
    # update() sends no signal: Django's middleware compares the password digest on the next
    # request; the fast path's snapshot lives until its periodic re-check of the row.
    if auth_path == "fast":
        assert me(browser).status_code == 200
        age_session(browser, since_activity=settings.SESSION_ACTIVITY_THROTTLE_SECONDS)
    assert me(browser).status_code == 401


def test_saving_other_fields_of_a_user_leaves_their_sessions_alone(
    user, password, server_side_store
):
    browser = signed_in_browser(user, password)
    account = User.objects.get(pk=user.pk)
    account.first_name = "Renamed"
    account.save()
    assert me(browser).status_code == 200


def test_the_site_s_own_password_change_still_keeps_the_session_it_was_made_from(
    user, password, server_side_store
):
    browser = signed_in_browser(user, password)
    elsewhere = signed_in_browser(user, password)
    response = browser.post(
        reverse("accounts:password_change"),
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert me(browser).status_code == 200
    assert me(elsewhere).status_code == 401


# --- Tokens ------------------------------------------------------------------------------


def api_me(access):
    return APIClient().get(reverse("api:me"), **bearer(access))


def api_orders(access):
    return APIClient().get(reverse("api:order_list"), **bearer(access))


def api_refresh(refresh):
    return APIClient().post(reverse("api:token_refresh"), {"refresh": refresh}, format="json")


def token_pair(user, password):
    response = obtain(APIClient(), user.email, password)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.both_paths
def test_a_refresh_token_issued_before_a_password_change_outside_never_mints_again(
    user, password, change_password_outside
):
    pair = token_pair(user, password)
    change_password_outside(user)
    response = api_refresh(pair["refresh"])
    assert response.status_code == 401
    assert response.json()["code"] in {"token_not_valid", "signin_ended"}


@pytest.mark.both_paths
def test_a_refresh_token_is_refused_at_once_even_after_a_queryset_update(user, password):
    pair = token_pair(user, password)
    User.objects.filter(pk=user.pk).update(password=make_password(NEW_PASSWORD))
    assert api_refresh(pair["refresh"]).status_code == 401
    # The chain is ended, so "your devices" no longer lists it as live.
    assert SignIn.objects.get(user=user, kind=SignIn.Kind.TOKEN).ended_at is not None


@pytest.mark.both_paths
def test_a_refresh_token_is_refused_after_a_deactivation_outside(
    user, password, deactivate_outside
):
    pair = token_pair(user, password)
    deactivate_outside(user)
    assert api_refresh(pair["refresh"]).status_code == 401


@pytest.mark.both_paths
def test_an_access_token_looked_up_in_the_database_dies_with_a_password_change_outside(
    user, password, change_password_outside
):
    pair = token_pair(user, password)
    change_password_outside(user)
    assert api_me(pair["access"]).status_code == 401
    assert api_orders(pair["access"]).status_code == 401


@pytest.mark.both_paths
def test_an_access_token_looked_up_in_the_database_dies_with_a_deactivation_outside(
    user, password, deactivate_outside
):
    pair = token_pair(user, password)
    deactivate_outside(user)
    assert api_me(pair["access"]).status_code == 401


@pytest.mark.both_paths
def test_an_access_token_looked_up_in_the_database_dies_at_once_even_after_a_queryset_update(
    user, password
):
    pair = token_pair(user, password)
    User.objects.filter(pk=user.pk).update(password=make_password(NEW_PASSWORD))
    assert api_me(pair["access"]).status_code == 401


@pytest.mark.both_paths
def test_in_stateless_mode_a_password_change_outside_leaves_me_but_refuses_data(
    user, password, settings, change_password_outside
):
    settings.JWT_USER_LOOKUP = "stateless"
    pair = token_pair(user, password)
    change_password_outside(user)
    # /api/me/ answers from the claims alone until the token expires; every endpoint that
    # reads the account's data loads the row and checks it.
    assert api_me(pair["access"]).status_code == 200
    assert api_orders(pair["access"]).status_code == 401


@pytest.mark.both_paths
def test_in_stateless_mode_a_deactivation_outside_leaves_me_but_refuses_data(
    user, password, settings, deactivate_outside
):
    settings.JWT_USER_LOOKUP = "stateless"
    pair = token_pair(user, password)
    deactivate_outside(user)
    assert api_me(pair["access"]).status_code == 200
    assert api_orders(pair["access"]).status_code == 401


@pytest.mark.redis
@pytest.mark.both_paths
def test_with_the_denylist_a_queryset_update_leaves_stateless_access_tokens_until_exp(
    user, password, denylist, settings, django_capture_on_commit_callbacks
):
    settings.JWT_USER_LOOKUP = "stateless"
    pair = token_pair(user, password)
    with django_capture_on_commit_callbacks(execute=True):
        User.objects.filter(pk=user.pk).update(is_active=False)
    # No save(), no signal, no denylist entry: the claims are all a stateless request sees.
    assert api_me(pair["access"]).status_code == 200
    assert api_orders(pair["access"]).status_code == 401


@pytest.mark.redis
@pytest.mark.both_paths
def test_with_the_denylist_a_password_change_outside_kills_stateless_access_tokens(
    user, password, denylist, settings, change_password_outside, django_capture_on_commit_callbacks
):
    settings.JWT_USER_LOOKUP = "stateless"
    pair = token_pair(user, password)
    with django_capture_on_commit_callbacks(execute=True):
        change_password_outside(user)
    response = api_me(pair["access"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


@pytest.mark.redis
@pytest.mark.both_paths
def test_with_the_denylist_a_deactivation_outside_kills_stateless_access_tokens(
    user, password, denylist, settings, deactivate_outside, django_capture_on_commit_callbacks
):
    settings.JWT_USER_LOOKUP = "stateless"
    pair = token_pair(user, password)
    with django_capture_on_commit_callbacks(execute=True):
        deactivate_outside(user)
    assert api_me(pair["access"]).status_code == 401


def test_the_session_store_still_holds_the_sessions_of_other_users(
    user, other_user, password, server_side_store
):
    mine = signed_in_browser(user, password)
    theirs = signed_in_browser(other_user, password)
    change_password_in_a_shell(user)
    assert me(mine).status_code == 401
    assert me(theirs).status_code == 200
    store = import_module(settings.SESSION_ENGINE).SessionStore
    assert store().exists(session_key(theirs))


# --- A hash upgrade is not a password change ----------------------------------------------

UPGRADED_HASHERS = [
    "tests.support.fast_pbkdf2.FastPBKDF2PasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
]


def test_a_hash_upgrade_at_sign_in_ends_no_other_sign_in_but_django_s_digest_check(
    auth_path, user, password, settings
):
    elsewhere = signed_in_browser(user, password)
    settings.PASSWORD_HASHERS = UPGRADED_HASHERS
    browser = signed_in_browser(user, password)  # Django re-saves the hash with PBKDF2.
    assert User.objects.get(pk=user.pk).password.startswith("pbkdf2_sha256$")
    assert me(browser).status_code == 200
    # The upgrade itself ends nothing (accounts/signals.py)...
    assert not SignIn.objects.filter(user=user, ended_at__isnull=False).exists()
    # ...but Django's session digest covers the stored hash, so stock Django refuses the
    # other session on its next request, as this site does (the fast path at its re-check).
    if auth_path == "fast":
        assert me(elsewhere).status_code == 200
        age_session(elsewhere, since_activity=settings.SESSION_ACTIVITY_THROTTLE_SECONDS)
    assert me(elsewhere).status_code == 401


def test_a_password_change_whose_old_password_check_upgrades_the_hash_keeps_this_session(
    user, password, settings
):
    browser = signed_in_browser(user, password)
    settings.PASSWORD_HASHERS = UPGRADED_HASHERS
    response = browser.post(
        reverse("accounts:password_change"),
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert me(browser).status_code == 200


@pytest.mark.both_paths
def test_an_api_password_change_whose_check_upgrades_the_hash_answers_a_working_pair(
    user, password, settings
):
    pair = token_pair(user, password)
    settings.PASSWORD_HASHERS = UPGRADED_HASHERS
    response = APIClient().post(
        reverse("api:password_change"),
        {"old_password": password, "new_password": NEW_PASSWORD},
        format="json",
        **bearer(pair["access"]),
    )
    assert response.status_code == 200, response.content
    assert api_refresh(response.json()["refresh"]).status_code == 200
