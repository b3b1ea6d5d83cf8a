"""The token lifecycle: sign in, use, refresh with rotation, verify, log out."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import SignIn
from tests.support.api import bearer, claims_of, header_of, obtain
from tests.support.factories import SignInFactory

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]


def refresh(client, token):
    return client.post(reverse("api:token_refresh"), {"refresh": token}, format="json")


def me(client, access):
    return client.get(reverse("api:me"), **bearer(access))


def test_email_and_password_give_an_access_and_a_refresh_token(api, user, password):
    response = obtain(api, user.email, password)
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert me(api, response.json()["access"]).json() == {"id": user.pk, "email": user.email}


def test_signing_in_records_a_token_sign_in_with_address_and_agent(api, user, password):
    obtain(api, user.email, password, REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="curl/8.0")
    sign_in = SignIn.objects.get(user=user)
    assert sign_in.kind == SignIn.Kind.TOKEN
    assert sign_in.ip_address == "198.51.100.4"
    assert sign_in.user_agent == "curl/8.0"


def test_tokens_carry_issuer_audience_sign_in_and_type(pair, user, settings):
    sign_in = SignIn.objects.get(user=user)
    for token, token_type in [(pair["access"], "access"), (pair["refresh"], "refresh")]:
        claims = claims_of(token)
        assert claims["iss"] == settings.SIMPLE_JWT["ISSUER"]
        assert claims["aud"] == settings.SIMPLE_JWT["AUDIENCE"]
        assert claims["sid"] == str(sign_in.pk)
        assert claims["user_id"] == str(user.pk)
        assert claims["token_type"] == token_type
    assert header_of(pair["access"])["alg"] == "HS256"


def test_lifetimes_come_from_the_settings(pair, settings):
    access, refresh_ = claims_of(pair["access"]), claims_of(pair["refresh"])
    assert (
        access["exp"] - access["iat"]
        == settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    )
    assert (
        refresh_["exp"] - refresh_["iat"]
        == settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds()
    )


def test_no_credentials_is_a_401_with_a_bearer_challenge(api, db):
    response = api.get(reverse("api:me"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "not_authenticated"


def test_session_authentication_is_not_accepted_on_the_api(api, user):
    api.force_login(user)
    assert api.get(reverse("api:me")).status_code == 401


def test_unknown_email_wrong_password_and_inactive_user_get_the_same_answer(
    api, user, password, django_user_model
):
    inactive = django_user_model.objects.create_user(email="gone@example.com", password=password)
    inactive.is_active = False
    inactive.save()
    answers = [
        obtain(api, "nobody@example.com", password),
        obtain(api, user.email, "wrong-password"),
        obtain(api, inactive.email, password),
    ]
    assert {response.status_code for response in answers} == {400}
    assert len({response.content for response in answers}) == 1
    assert answers[0].json()["code"] == "invalid_login"
    assert not SignIn.objects.exists()


def test_the_token_endpoint_shares_the_lockout_and_answers_429_with_retry_after(
    api, user, password, settings
):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        assert obtain(api, user.email, "wrong-password").status_code == 400
    response = obtain(api, user.email, password)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= settings.LOGIN_LOCKOUT_SECONDS
    assert response.json()["code"] == "login_locked"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "x"}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "a@example.com", "password": ["x"]}, "password"),
        ({"email": "a\x00@example.com", "password": "x"}, "email"),
    ],
)
def test_a_malformed_body_is_a_400_with_field_errors(api, db, body, field):
    response = api.post(reverse("api:token_obtain"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_body_that_is_not_json_is_a_400_json_error(api, db):
    response = api.post(
        reverse("api:token_obtain"), data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_refresh_returns_a_new_pair_and_uses_the_old_refresh_token_up(api, pair):
    response = refresh(api, pair["refresh"])
    assert response.status_code == 200
    new = response.json()
    assert new["refresh"] != pair["refresh"]
    assert me(api, new["access"]).status_code == 200
    old = OutstandingToken.objects.get(jti=claims_of(pair["refresh"])["jti"])
    assert BlacklistedToken.objects.filter(token=old).exists()
    assert refresh(api, new["refresh"]).status_code == 200


def test_refresh_keeps_the_sign_in_and_updates_when_it_was_last_seen(api, pair, user):
    sign_in = SignIn.objects.get(user=user)
    SignIn.objects.filter(pk=sign_in.pk).update(last_seen_at=timezone.now() - timedelta(hours=1))
    new = refresh(api, pair["refresh"]).json()
    assert claims_of(new["refresh"])["sid"] == str(sign_in.pk)
    sign_in.refresh_from_db()
    assert timezone.now() - sign_in.last_seen_at < timedelta(minutes=1)


def test_an_access_token_cannot_be_used_to_refresh(api, pair):
    response = refresh(api, pair["access"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_a_refresh_token_cannot_be_used_as_an_access_token(api, pair):
    assert me(api, pair["refresh"]).status_code == 401


def test_rotation_never_extends_a_chain_past_its_absolute_cap(api, user, password, settings):
    settings.JWT_REFRESH_MAX_AGE_SECONDS = 3600
    tokens = obtain(api, user.email, password).json()
    sign_in = SignIn.objects.get(user=user)
    cap = sign_in.expires_at.timestamp()
    assert claims_of(tokens["refresh"])["exp"] <= cap
    # Later in the chain's life, the new refresh token still ends at the cap.
    SignIn.objects.filter(pk=sign_in.pk).update(expires_at=timezone.now() + timedelta(minutes=5))
    tokens = refresh(api, tokens["refresh"]).json()
    later_cap = (timezone.now() + timedelta(minutes=5)).timestamp()
    assert claims_of(tokens["refresh"])["exp"] <= later_cap
    # And once the cap has passed, the chain cannot be refreshed at all.
    SignIn.objects.filter(pk=sign_in.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert refresh(api, tokens["refresh"]).status_code == 401


def test_verify_accepts_live_tokens_of_both_kinds(api, pair):
    for token in (pair["access"], pair["refresh"]):
        response = api.post(reverse("api:token_verify"), {"token": token}, format="json")
        assert response.status_code == 200


def test_verify_refuses_a_rotated_refresh_token_without_ending_anything(api, pair, user):
    refresh(api, pair["refresh"])
    # Past the reuse interval (within it, a retry would be answered: test_refresh_retries).
    BlacklistedToken.objects.filter(token__jti=claims_of(pair["refresh"])["jti"]).update(
        blacklisted_at=timezone.now() - timedelta(minutes=1)
    )
    response = api.post(reverse("api:token_verify"), {"token": pair["refresh"]}, format="json")
    assert response.status_code == 401
    assert SignIn.objects.get(user=user).ended_at is None


def test_logout_blacklists_the_refresh_token_and_ends_the_sign_in(api, pair, user):
    response = api.post(reverse("api:logout"), {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 204
    sign_in = SignIn.objects.get(user=user)
    assert sign_in.end_reason == SignIn.EndReason.SIGNED_OUT
    assert BlacklistedToken.objects.filter(token__jti=claims_of(pair["refresh"])["jti"]).exists()
    assert refresh(api, pair["refresh"]).status_code == 401


def test_logging_out_twice_is_not_an_error(api, pair):
    for _ in range(2):
        response = api.post(reverse("api:logout"), {"refresh": pair["refresh"]}, format="json")
        assert response.status_code == 204


def test_logout_all_ends_every_token_sign_in_but_not_browser_sessions(api, authed, user, password):
    other = obtain(api, user.email, password).json()
    browser = SignInFactory(user=user)
    assert authed.post(reverse("api:logout_all")).status_code == 204
    assert refresh(api, other["refresh"]).status_code == 401
    assert not SignIn.objects.filter(user=user, kind="token", ended_at__isnull=True).exists()
    browser.refresh_from_db()
    assert browser.ended_at is None


def test_the_refresh_token_table_keeps_no_usable_token(pair):
    stored = OutstandingToken.objects.get(jti=claims_of(pair["refresh"])["jti"]).token
    assert stored.count(".") == 1
    assert pair["refresh"].startswith(stored + ".")
