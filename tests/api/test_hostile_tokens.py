"""Hostile and broken tokens: every one is a 401 with a JSON body, never a 500."""

import hashlib
import hmac
import time
import uuid

import jwt
import pytest
from django.urls import reverse

from api.keys import token_backend
from tests.support.api import b64url, bearer, claims_of, forge

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]

HEADER = {"alg": "HS256", "typ": "JWT"}


def hs256(header: dict, payload: dict, key: bytes) -> str:
    """
    Sign by hand, so that any header and key (even an empty one) can be used. The header
    names the site's current key unless it names another: each token is refused for its
    own defect, not for lacking a kid.
    """
    unsigned = forge({"kid": token_backend().kid, **header}, payload).rsplit(".", 1)[0]
    signature = hmac.new(key, unsigned.encode(), hashlib.sha256).digest()
    return f"{unsigned}.{b64url(signature)}"


@pytest.fixture
def claims(pair):
    """The claims of a genuine access token, to be tampered with."""
    return claims_of(pair["access"])


@pytest.fixture
def signing_key(settings):
    return settings.SIMPLE_JWT["SIGNING_KEY"].encode()


def hostile_tokens(pair, claims, signing_key, other_user):
    now = int(time.time())
    genuine = pair["access"]
    head, body, signature = genuine.split(".")
    other = {**claims, "user_id": str(other_user.pk)}
    return {
        "garbage": "not-a-token",
        "two segments": f"{head}.{body}",
        "four segments": f"{genuine}.{signature}",
        "truncated": genuine[:-12],
        "empty signature": f"{head}.{body}.",
        "tampered claims": f"{head}.{forge(HEADER, other).split('.')[1]}.{signature}",
        "alg none": forge({"alg": "none", "typ": "JWT"}, other),
        "alg None spelled oddly": forge({"alg": "nOnE", "typ": "JWT"}, other),
        "empty hmac key": hs256(HEADER, other, b""),
        "another hmac key": hs256(HEADER, other, b"x" * 64),
        "alg RS256 header on an HMAC signature": hs256(
            {**HEADER, "alg": "RS256"}, other, signing_key
        ),
        "unknown kid": hs256({**HEADER, "kid": "someone-elses-key"}, claims, signing_key),
        "expired": hs256(HEADER, {**claims, "exp": now - 3600}, signing_key),
        "not valid before a future nbf": hs256(HEADER, {**claims, "nbf": now + 3600}, signing_key),
        "issued in the future": hs256(HEADER, {**claims, "iat": now + 3600}, signing_key),
        "wrong audience": hs256(HEADER, {**claims, "aud": "another-api"}, signing_key),
        "wrong issuer": hs256(HEADER, {**claims, "iss": "https://evil.example"}, signing_key),
        "no audience": hs256(HEADER, {k: v for k, v in claims.items() if k != "aud"}, signing_key),
        "no issuer": hs256(HEADER, {k: v for k, v in claims.items() if k != "iss"}, signing_key),
        "no expiry": hs256(HEADER, {k: v for k, v in claims.items() if k != "exp"}, signing_key),
        "no user id": hs256(
            HEADER, {k: v for k, v in claims.items() if k != "user_id"}, signing_key
        ),
        "user id not a number": hs256(HEADER, {**claims, "user_id": "1 OR 1=1"}, signing_key),
        "user id too large": hs256(HEADER, {**claims, "user_id": "9" * 40}, signing_key),
        "user id as an integer": hs256(HEADER, {**claims, "user_id": 1}, signing_key),
        "no sign-in id": hs256(
            HEADER, {k: v for k, v in claims.items() if k != "sid"}, signing_key
        ),
        "sign-in id not a uuid": hs256(HEADER, {**claims, "sid": ["x"]}, signing_key),
        "refresh token as access": pair["refresh"],
        "unknown user": hs256(HEADER, {**claims, "user_id": "987654321"}, signing_key),
        "header not an object": f"{b64url(b'[]')}.{body}.{signature}",
        "header not json": f"{b64url(b'{alg')}.{body}.{signature}",
        "payload not an object": f"{head}.{b64url(b'[1]')}.{signature}",
        "oversize": hs256(HEADER, {**claims, "pad": "x" * 6000}, signing_key),
        "non-ascii": genuine[:-4] + "ééé",
        "another jti under PyJWT with a guessed key": jwt.encode(
            {**claims, "jti": uuid.uuid4().hex}, "secret" * 8, algorithm="HS256"
        ),
    }


def test_every_hostile_access_token_is_a_401_json_error(api, pair, claims, signing_key, other_user):
    for name, token in hostile_tokens(pair, claims, signing_key, other_user).items():
        response = api.get(reverse("api:me"), **bearer(token))
        assert response.status_code == 401, name
        assert response["Content-Type"] == "application/json", name
        assert set(response.json()) == {"detail", "code"}, name
    # The genuine token still works after the barrage.
    assert api.get(reverse("api:me"), **bearer(pair["access"])).status_code == 200


def test_every_hostile_refresh_token_is_a_401_and_ends_nothing(
    api, pair, claims, signing_key, other_user
):
    hostile = hostile_tokens(pair, claims, signing_key, other_user)
    del hostile["refresh token as access"]  # The genuine refresh token: it would work here.
    hostile["access token as refresh"] = pair["access"]
    for name, token in hostile.items():
        response = api.post(reverse("api:token_refresh"), {"refresh": token}, format="json")
        assert response.status_code == 401, name
        assert set(response.json()) == {"detail", "code"}, name
    assert (
        api.post(
            reverse("api:token_refresh"), {"refresh": pair["refresh"]}, format="json"
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer  ", "bearer x.y.z"],
)
def test_malformed_authorization_headers_are_refused_or_ignored_never_a_500(api, db, header):
    response = api.get(reverse("api:me"), HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert "code" in response.json()


def test_a_forged_signature_over_genuine_claims_is_refused(api, pair):
    head, body, _ = pair["access"].split(".")
    forged = f"{head}.{body}.{b64url(b'0' * 32)}"
    assert api.get(reverse("api:me"), **bearer(forged)).status_code == 401


def test_a_token_within_the_leeway_of_its_expiry_is_still_accepted(
    api, claims, signing_key, settings
):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "LEEWAY": 10}
    token = hs256(HEADER, {**claims, "exp": int(time.time()) - 5}, signing_key)
    assert api.get(reverse("api:me"), **bearer(token)).status_code == 200
