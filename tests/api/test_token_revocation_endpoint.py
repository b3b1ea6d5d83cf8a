"""POST /api/auth/revoke/: OAuth 2.0 token revocation (RFC 7009) for a public client."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import SignIn
from api.keys import token_backend
from tests.support.api import bearer, claims_of, forge, obtain
from tests.support.factories import SignInFactory

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]


def revoke(client, data, **extra):
    return client.post(reverse("api:token_revoke"), data, format="json", **extra)


def revoke_form(client, data):
    return client.post(
        reverse("api:token_revoke"),
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
    )


def refresh(client, token):
    return client.post(reverse("api:token_refresh"), {"refresh": token}, format="json")


def me(client, access):
    return client.get(reverse("api:me"), **bearer(access))


def sign_in_of(token) -> SignIn:
    return SignIn.objects.get(pk=claims_of(token)["sid"])


# --- Refresh tokens ----------------------------------------------------------------------


def test_revoking_a_refresh_token_ends_its_sign_in(api, pair):
    response = revoke(api, {"token": pair["refresh"]})
    assert response.status_code == 200
    assert response.json() == {}
    assert sign_in_of(pair["refresh"]).end_reason == SignIn.EndReason.SIGNED_OUT
    assert refresh(api, pair["refresh"]).status_code == 401


def test_revocation_takes_a_form_encoded_body_as_rfc_7009_sends_it(api, pair):
    response = revoke_form(api, {"token": pair["refresh"], "token_type_hint": "refresh_token"})
    assert response.status_code == 200
    assert sign_in_of(pair["refresh"]).ended_at is not None


def test_revocation_refuses_other_body_types_with_a_415(api, pair):
    response = api.post(reverse("api:token_revoke"), {"token": pair["refresh"]}, format="multipart")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert sign_in_of(pair["refresh"]).ended_at is None


def test_revoking_a_refresh_token_leaves_the_user_s_other_sign_ins_alone(api, pair, user, password):
    other = obtain(api, user.email, password).json()
    browser = SignInFactory(user=user)
    revoke(api, {"token": pair["refresh"]})
    assert refresh(api, other["refresh"]).status_code == 200
    browser.refresh_from_db()
    assert browser.ended_at is None


def test_revoking_twice_is_not_an_error(api, pair):
    for _ in range(2):
        assert revoke(api, {"token": pair["refresh"]}).status_code == 200


def test_revoking_a_token_rotated_within_the_reuse_interval_ends_its_sign_in(api, pair):
    new = refresh(api, pair["refresh"]).json()
    assert revoke(api, {"token": pair["refresh"]}).status_code == 200
    assert sign_in_of(pair["refresh"]).end_reason == SignIn.EndReason.SIGNED_OUT
    assert refresh(api, new["refresh"]).status_code == 401


def test_revoking_a_token_rotated_long_ago_is_reuse_and_still_answers_200(api, pair):
    refresh(api, pair["refresh"])
    BlacklistedToken.objects.filter(token__jti=claims_of(pair["refresh"])["jti"]).update(
        blacklisted_at=timezone.now() - timedelta(minutes=1)
    )
    assert revoke(api, {"token": pair["refresh"]}).status_code == 200
    assert sign_in_of(pair["refresh"]).end_reason == SignIn.EndReason.TOKEN_REUSE


# --- Hints -------------------------------------------------------------------------------


def test_a_wrong_hint_does_not_stop_the_token_being_found(api, pair):
    # RFC 7009 §2.1: a server that cannot find the token under the hint searches further.
    assert (
        revoke(api, {"token": pair["refresh"], "token_type_hint": "access_token"}).status_code
        == 200
    )
    assert sign_in_of(pair["refresh"]).ended_at is not None


def test_an_unknown_hint_is_ignored(api, pair):
    response = revoke(api, {"token": pair["refresh"], "token_type_hint": "id_token"})
    assert response.status_code == 200
    assert sign_in_of(pair["refresh"]).ended_at is not None


# --- Access tokens -----------------------------------------------------------------------


def test_without_the_denylist_revoking_an_access_token_changes_nothing(api, pair):
    response = revoke(api, {"token": pair["access"], "token_type_hint": "access_token"})
    assert response.status_code == 200
    assert me(api, pair["access"]).status_code == 200
    assert sign_in_of(pair["access"]).ended_at is None


@pytest.mark.redis
def test_with_the_denylist_revoking_an_access_token_refuses_it_at_once(
    api, pair, denylist, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = revoke(api, {"token": pair["access"], "token_type_hint": "access_token"})
    assert response.status_code == 200
    assert me(api, pair["access"]).status_code == 401
    # The denylist refuses a sign-in's access tokens, so the sign-in itself ends with it.
    assert sign_in_of(pair["access"]).end_reason == SignIn.EndReason.SIGNED_OUT
    assert refresh(api, pair["refresh"]).status_code == 401


@pytest.mark.redis
def test_with_the_denylist_revoking_a_refresh_token_kills_its_access_tokens(
    api, pair, user, password, denylist, django_capture_on_commit_callbacks
):
    other = obtain(api, user.email, password).json()
    with django_capture_on_commit_callbacks(execute=True):
        revoke(api, {"token": pair["refresh"]})
    response = me(api, pair["access"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
    assert me(api, other["access"]).status_code == 200


# --- Tokens it does not know: 200, as RFC 7009 §2.2 says ----------------------------------


def _expired(token: str) -> str:
    claims = claims_of(token)
    return token_backend().encode({**claims, "exp": claims["iat"] - 60})


def _unsigned(token: str) -> str:
    return forge({"alg": "none", "typ": "JWT"}, claims_of(token))


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda pair: "not-a-token", id="malformed"),
        pytest.param(lambda pair: "x" * 5000, id="oversized"),
        pytest.param(lambda pair: _expired(pair["refresh"]), id="expired-refresh"),
        pytest.param(lambda pair: _expired(pair["access"]), id="expired-access"),
        pytest.param(lambda pair: _unsigned(pair["refresh"]), id="forged"),
    ],
)
def test_a_token_it_cannot_use_answers_200_and_changes_nothing(api, pair, make):
    response = revoke(api, {"token": make(pair)})
    assert response.status_code == 200
    assert sign_in_of(pair["refresh"]).ended_at is None
    assert refresh(api, pair["refresh"]).status_code == 200


def test_a_refresh_token_of_no_sign_in_on_record_answers_200(api, pair, user):
    SignIn.objects.filter(user=user).delete()
    assert revoke(api, {"token": pair["refresh"]}).status_code == 200


# --- Bad requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"token": ""},
        {"token": None},
        {"token": 42},
        {"token": "a.b.c", "token_type_hint": 1},
        {"token_type_hint": "refresh_token"},
        [],
    ],
    ids=["empty", "blank", "null", "number", "hint-number", "hint-only", "a-list"],
)
def test_a_request_without_a_token_as_text_is_a_400_invalid_request(api, db, body):
    response = revoke(api, body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert response.json()["detail"]


def test_a_json_null_body_is_a_400_invalid_request(api, db):
    response = api.post(reverse("api:token_revoke"), "null", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


def test_a_form_without_a_token_is_a_400_invalid_request(api, db):
    response = revoke_form(api, {"token_type_hint": "refresh_token"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


# --- A public client ---------------------------------------------------------------------


def test_revocation_needs_no_client_authentication_and_reads_no_authorization_header(api, pair):
    response = revoke(api, {"token": pair["refresh"]}, HTTP_AUTHORIZATION="Bearer nonsense")
    assert response.status_code == 200
    assert sign_in_of(pair["refresh"]).ended_at is not None


def test_revocation_is_in_the_schema_with_both_body_types(client, db):
    schema = client.get(reverse("api:schema"), HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/auth/revoke/"]["post"]
    assert set(operation["requestBody"]["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
    }
    assert {"200", "400"} <= set(operation["responses"])
    assert operation.get("security", [{}]) in ([{}], [])
