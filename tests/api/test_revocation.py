"""Every way a token stops working before it expires, beyond what simplejwt 5.5.1 does alone."""

import pytest
from django.contrib.admin.sites import site
from django.urls import reverse
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import services
from accounts.models import SignIn
from api.token_services import token_logout, token_sign_in_revoke
from tests.support.api import bearer, claims_of, obtain
from tests.support.factories import SignInFactory

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]


def refresh(client, token):
    return client.post(reverse("api:token_refresh"), {"refresh": token}, format="json")


def me(client, access):
    return client.get(reverse("api:me"), **bearer(access))


def live_token_sign_ins(user):
    return SignIn.objects.filter(user=user, kind=SignIn.Kind.TOKEN, ended_at__isnull=True)


# --- Logout (reuse of a rotated refresh token: tests/api/test_refresh_retries.py) -----------


def test_refreshing_after_logout_is_refused_without_ending_other_sign_ins(
    api, pair, user, password
):
    other = obtain(api, user.email, password).json()
    api.post(reverse("api:logout"), {"refresh": pair["refresh"]}, format="json")
    assert refresh(api, pair["refresh"]).status_code == 401
    assert refresh(api, other["refresh"]).status_code == 200


# --- Password change and reset -------------------------------------------------------------


def change_password(client, access, old, new):
    return client.post(
        reverse("api:password_change"),
        {"old_password": old, "new_password": new},
        format="json",
        **bearer(access),
    )


def test_password_change_through_the_api_kills_every_access_token_at_once(
    api, pair, user, password
):
    other = obtain(api, user.email, password).json()
    response = change_password(api, pair["access"], password, "a-brand-new-passphrase")
    assert response.status_code == 200
    assert me(api, pair["access"]).status_code == 401
    assert me(api, other["access"]).status_code == 401
    assert me(api, response.json()["access"]).status_code == 200


def test_password_change_through_the_api_keeps_only_the_current_sign_in(api, pair, user, password):
    other = obtain(api, user.email, password).json()
    response = change_password(api, pair["access"], password, "a-brand-new-passphrase")
    assert refresh(api, other["refresh"]).status_code == 401
    # This sign-in carries on with the pair the change answered (as a session carries on
    # under a new key); its refresh token from before the change carries the old digest.
    new = refresh(api, response.json()["refresh"])
    assert new.status_code == 200
    assert me(api, new.json()["access"]).status_code == 200
    assert refresh(api, pair["refresh"]).status_code == 401


def test_password_change_needs_the_old_password(api, pair, user, password):
    response = change_password(api, pair["access"], "not-my-password", "a-brand-new-passphrase")
    assert response.status_code == 400
    assert "old_password" in response.json()["errors"]
    user.refresh_from_db()
    assert user.check_password(password)


def test_password_change_refuses_a_weak_password_with_a_field_error(api, pair, user, password):
    response = change_password(api, pair["access"], password, "123")
    assert response.status_code == 400
    assert "new_password" in response.json()["errors"]
    assert me(api, pair["access"]).status_code == 200


def test_password_change_on_the_storefront_ends_every_api_token(api, pair, user):
    browser = SignInFactory(user=user)
    services.user_password_change(user=user, new_password="a-brand-new-passphrase", keep=browser)
    assert me(api, pair["access"]).status_code == 401
    assert refresh(api, pair["refresh"]).status_code == 401


def test_password_reset_ends_every_api_token(api, pair, user):
    services.user_password_reset_complete(user=user, new_password="a-brand-new-passphrase")
    assert me(api, pair["access"]).status_code == 401
    assert refresh(api, pair["refresh"]).status_code == 401


def test_ending_a_sign_in_blacklists_its_outstanding_refresh_tokens(api, pair, user):
    services.user_password_reset_complete(user=user, new_password="a-brand-new-passphrase")
    jti = claims_of(pair["refresh"])["jti"]
    assert BlacklistedToken.objects.filter(token__jti=jti).exists()
    assert not OutstandingToken.objects.filter(blacklistedtoken__isnull=True).exists()


def test_the_api_registers_the_end_of_token_sign_ins_with_the_core():
    # accounts.services ends every kind of sign-in; it reaches the tokens through this.
    assert services.sign_in_enders[SignIn.Kind.TOKEN] is token_sign_in_revoke


# --- Deactivation, admin, sessions --------------------------------------------------------


def test_deactivation_rejects_the_access_token_on_the_next_request(api, pair, user):
    services.user_deactivate(user=user)
    assert me(api, pair["access"]).status_code == 401
    assert refresh(api, pair["refresh"]).status_code == 401


def test_a_deleted_user_s_token_is_a_401(api, pair, user):
    SignIn.objects.filter(user=user).delete()
    user.delete()
    assert me(api, pair["access"]).status_code == 401


def test_sign_out_everywhere_ends_the_user_s_tokens_too(api, pair, user):
    services.user_sign_out_everywhere(user=user, reason=SignIn.EndReason.ADMIN)
    assert refresh(api, pair["refresh"]).status_code == 401
    assert not live_token_sign_ins(user).exists()


def test_the_token_tables_are_in_the_admin(admin_client):
    for model in (OutstandingToken, BlacklistedToken):
        assert model in site._registry
        url = reverse(f"admin:token_blacklist_{model._meta.model_name}_changelist")
        assert admin_client.get(url).status_code == 200


def test_revoking_a_token_sign_in_from_the_sessions_list_kills_its_refresh_chain(
    api, authed, user, password
):
    other = obtain(api, user.email, password).json()
    other_sid = claims_of(other["refresh"])["sid"]
    response = authed.delete(reverse("api:sign_in_detail", args=[other_sid]))
    assert response.status_code == 204
    assert refresh(api, other["refresh"]).status_code == 401
    assert SignIn.objects.get(pk=other_sid).end_reason == SignIn.EndReason.REVOKED


def test_another_user_s_sign_in_cannot_be_revoked(api, authed, other_user, password):
    theirs = obtain(api, other_user.email, password).json()
    sid = claims_of(theirs["refresh"])["sid"]
    assert authed.delete(reverse("api:sign_in_detail", args=[sid])).status_code == 404
    assert refresh(api, theirs["refresh"]).status_code == 200


# --- The access-token denylist (Redis) ---------------------------------------------------


@pytest.mark.redis
def test_without_the_denylist_an_access_token_outlives_logout(api, pair, redis_cache):
    api.post(reverse("api:logout"), {"refresh": pair["refresh"]}, format="json")
    assert me(api, pair["access"]).status_code == 200


@pytest.mark.redis
def test_with_the_denylist_logout_kills_the_access_token_at_once(
    api, pair, denylist, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api.post(reverse("api:logout"), {"refresh": pair["refresh"]}, format="json")
    response = me(api, pair["access"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


@pytest.mark.redis
def test_with_the_denylist_stateless_mode_still_sees_deactivation(
    api, pair, user, denylist, settings, django_capture_on_commit_callbacks
):
    settings.JWT_USER_LOOKUP = "stateless"
    with django_capture_on_commit_callbacks(execute=True):
        services.user_deactivate(user=user)
    assert me(api, pair["access"]).status_code == 401


@pytest.mark.redis
def test_the_denylist_spares_the_user_s_other_sign_ins(
    api, pair, user, password, denylist, django_capture_on_commit_callbacks
):
    other = obtain(api, user.email, password).json()
    with django_capture_on_commit_callbacks(execute=True):
        api.post(reverse("api:logout"), {"refresh": pair["refresh"]}, format="json")
    assert me(api, other["access"]).status_code == 200


@pytest.mark.redis
def test_the_denylist_entry_lasts_as_long_as_an_access_token_can(
    pair, denylist, settings, django_capture_on_commit_callbacks
):
    from django_redis import get_redis_connection

    with django_capture_on_commit_callbacks(execute=True):
        token_logout(raw=pair["refresh"])
    key = [k for k in get_redis_connection().keys("test-api:*") if b"jwt-deny" in k]
    ttl = get_redis_connection().ttl(key[0])
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    assert lifetime < ttl <= lifetime + settings.SIMPLE_JWT["LEEWAY"] + 1


def test_stateless_mode_without_the_denylist_accepts_a_deactivated_user_s_token(
    api, pair, user, settings
):
    # The documented price of "stateless": claims only, until the access token expires.
    settings.JWT_USER_LOOKUP = "stateless"
    services.user_deactivate(user=user)
    assert me(api, pair["access"]).status_code == 200


def test_stateless_mode_still_checks_the_account_where_data_is_read(api, pair, user, settings):
    settings.JWT_USER_LOOKUP = "stateless"
    services.user_deactivate(user=user)
    assert api.get(reverse("api:cart"), **bearer(pair["access"])).status_code == 401
