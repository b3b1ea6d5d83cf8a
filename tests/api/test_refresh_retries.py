"""
A rotated refresh token presented again: within JWT_REFRESH_REUSE_INTERVAL_SECONDS a retry
(a lost response, two tabs), answered with the chain's current refresh token; after it,
reuse, which ends that sign-in only (RFC 9700 §4.14.2).
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import SignIn
from tests.support.api import bearer, claims_of, obtain
from tests.support.factories import SignInFactory

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]


def refresh(client, token):
    return client.post(reverse("api:token_refresh"), {"refresh": token}, format="json")


def me(client, access):
    return client.get(reverse("api:me"), **bearer(access))


def rotated_seconds_ago(token: str, seconds: float) -> None:
    """Move the moment ``token`` was rotated into the past."""
    BlacklistedToken.objects.filter(token__jti=claims_of(token)["jti"]).update(
        blacklisted_at=timezone.now() - timedelta(seconds=seconds)
    )


def usable_refresh_tokens(sign_in_id) -> list[str]:
    """The jtis of the sign-in's refresh tokens that are not blacklisted: its live chain."""
    return list(
        OutstandingToken.objects.filter(
            jti__startswith=str(sign_in_id).replace("-", ""), blacklistedtoken__isnull=True
        ).values_list("jti", flat=True)
    )


def test_the_default_reuse_interval_is_a_few_seconds(settings):
    assert 0 < settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS <= 10


# --- Within the interval: a retry ---------------------------------------------------------


def test_a_retry_within_the_interval_gets_the_same_new_refresh_token(api, pair):
    first = refresh(api, pair["refresh"]).json()
    retry = refresh(api, pair["refresh"])
    assert retry.status_code == 200
    assert retry.json()["refresh"] == first["refresh"]
    assert me(api, retry.json()["access"]).status_code == 200


def test_a_retry_within_the_interval_leaves_one_live_chain(api, pair):
    first = refresh(api, pair["refresh"]).json()
    refresh(api, pair["refresh"])
    sid = claims_of(pair["refresh"])["sid"]
    assert usable_refresh_tokens(sid) == [claims_of(first["refresh"])["jti"]]
    assert SignIn.objects.get(pk=sid).ended_at is None
    # The chain carries on from the one token both answers gave.
    assert refresh(api, first["refresh"]).status_code == 200


def test_a_retry_writes_nothing(api, pair):
    refresh(api, pair["refresh"])
    with CaptureQueriesContext(connection) as queries:
        assert refresh(api, pair["refresh"]).status_code == 200
    statements = [q["sql"].lstrip().split()[0].upper() for q in queries.captured_queries]
    assert "SELECT" in statements
    assert not {"INSERT", "UPDATE", "DELETE"} & set(statements), statements


def test_a_retry_after_the_chain_moved_on_gets_its_newest_refresh_token(api, pair):
    first = refresh(api, pair["refresh"]).json()
    second = refresh(api, first["refresh"]).json()
    retry = refresh(api, pair["refresh"])
    assert retry.status_code == 200
    assert retry.json()["refresh"] == second["refresh"]


def test_a_retry_is_answered_with_the_same_token_under_public_key_algorithms(
    api, user, password, key_pair
):
    # RS256 (PKCS #1 v1.5) and EdDSA signatures are deterministic, as HMAC is.
    tokens = obtain(api, user.email, password).json()
    first = refresh(api, tokens["refresh"]).json()
    assert refresh(api, tokens["refresh"]).json()["refresh"] == first["refresh"]


def test_logging_out_with_a_token_rotated_within_the_interval_ends_the_sign_in(api, pair):
    first = refresh(api, pair["refresh"]).json()
    response = api.post(reverse("api:logout"), {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 204
    sign_in = SignIn.objects.get(pk=claims_of(pair["refresh"])["sid"])
    assert sign_in.end_reason == SignIn.EndReason.SIGNED_OUT
    assert refresh(api, first["refresh"]).status_code == 401


def test_verify_accepts_a_token_rotated_within_the_interval_as_refresh_would(api, pair):
    refresh(api, pair["refresh"])
    response = api.post(reverse("api:token_verify"), {"token": pair["refresh"]}, format="json")
    assert response.status_code == 200


# --- After the interval: reuse ------------------------------------------------------------


def test_a_rotated_token_presented_after_the_interval_is_a_401(api, pair):
    refresh(api, pair["refresh"])
    rotated_seconds_ago(pair["refresh"], 60)
    response = refresh(api, pair["refresh"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_reuse_after_the_interval_ends_that_sign_in_and_records_why(api, pair):
    first = refresh(api, pair["refresh"]).json()
    rotated_seconds_ago(pair["refresh"], 60)
    refresh(api, pair["refresh"])
    sign_in = SignIn.objects.get(pk=claims_of(pair["refresh"])["sid"])
    assert sign_in.ended_at is not None
    assert sign_in.end_reason == SignIn.EndReason.TOKEN_REUSE
    # Whoever holds the successor (the thief or the victim) is out too.
    assert refresh(api, first["refresh"]).status_code == 401
    assert usable_refresh_tokens(sign_in.pk) == []


def test_reuse_after_the_interval_leaves_the_user_s_other_sign_ins_alone(api, pair, user, password):
    other_device = obtain(api, user.email, password).json()
    browser = SignInFactory(user=user)
    refresh(api, pair["refresh"])
    rotated_seconds_ago(pair["refresh"], 60)
    refresh(api, pair["refresh"])
    assert refresh(api, other_device["refresh"]).status_code == 200
    assert me(api, other_device["access"]).status_code == 200
    browser.refresh_from_db()
    assert browser.ended_at is None
    live = SignIn.objects.filter(user=user, ended_at__isnull=True)
    assert set(live.values_list("kind", flat=True)) == {SignIn.Kind.TOKEN, SignIn.Kind.SESSION}


def test_logging_out_with_a_token_reused_after_the_interval_is_treated_as_reuse(api, pair):
    refresh(api, pair["refresh"])
    rotated_seconds_ago(pair["refresh"], 60)
    response = api.post(reverse("api:logout"), {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 401
    sign_in = SignIn.objects.get(pk=claims_of(pair["refresh"])["sid"])
    assert sign_in.end_reason == SignIn.EndReason.TOKEN_REUSE


def test_an_interval_of_zero_restores_strict_reuse_detection(api, pair, settings):
    settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS = 0
    first = refresh(api, pair["refresh"]).json()
    assert refresh(api, pair["refresh"]).status_code == 401
    assert refresh(api, first["refresh"]).status_code == 401
    sign_in = SignIn.objects.get(pk=claims_of(pair["refresh"])["sid"])
    assert sign_in.end_reason == SignIn.EndReason.TOKEN_REUSE


def test_the_interval_counts_from_the_rotation(api, pair, settings):
    settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS = 30
    refresh(api, pair["refresh"])
    rotated_seconds_ago(pair["refresh"], 20)
    assert refresh(api, pair["refresh"]).status_code == 200
    rotated_seconds_ago(pair["refresh"], 31)
    assert refresh(api, pair["refresh"]).status_code == 401


# --- Limits that retries do not lift ------------------------------------------------------


def test_a_retry_never_outlives_the_chain_s_absolute_cap(api, pair):
    refresh(api, pair["refresh"])
    sid = claims_of(pair["refresh"])["sid"]
    SignIn.objects.filter(pk=sid).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert refresh(api, pair["refresh"]).status_code == 401


def test_a_retry_answer_ends_no_later_than_the_chain_s_cap(api, user, password, settings):
    settings.JWT_REFRESH_MAX_AGE_SECONDS = 3600
    tokens = obtain(api, user.email, password).json()
    refresh(api, tokens["refresh"])
    retry = refresh(api, tokens["refresh"]).json()
    cap = SignIn.objects.get(user=user).expires_at.timestamp()
    assert claims_of(retry["refresh"])["exp"] <= cap
    assert claims_of(retry["access"])["exp"] <= cap


def test_a_retry_of_an_ended_sign_in_is_refused(api, pair):
    first = refresh(api, pair["refresh"]).json()
    api.post(reverse("api:logout"), {"refresh": first["refresh"]}, format="json")
    assert refresh(api, pair["refresh"]).status_code == 401
