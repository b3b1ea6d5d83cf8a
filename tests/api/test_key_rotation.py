"""
Signing-key rotation with overlap (docs/jwt.md, "Rotating the signing key"): a new key
signs, the keys listed as previous still verify, and a retired key verifies nothing.

Each step is a settings change here, as a restart with new environment lines is in a
deployment (tests/test_key_rotation_processes.py runs the same steps as processes).
"""

import base64
import hashlib
import secrets
from pathlib import Path

import jwt
import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from api.keys import hmac_kid, token_backend
from tests.support.api import b64url, bearer, claims_of, header_of, make_key_pair, obtain

pytestmark = pytest.mark.django_db

ALGORITHMS = ("HS256", "RS256", "EdDSA")


class Keys:
    """Two keys of one algorithm, A (signing at first) and B (the one rotated in)."""

    def __init__(self, algorithm: str, directory: Path):
        self.algorithm = algorithm
        if algorithm == "HS256":
            self.a = {"signing": secrets.token_urlsafe(48), "public": ""}
            self.b = {"signing": secrets.token_urlsafe(48), "public": ""}
        else:
            self.a, self.b = (self._pair(directory / name) for name in ("a", "b"))

    def _pair(self, directory: Path) -> dict:
        directory.mkdir()
        private_path, public_path = make_key_pair(self.algorithm, directory)
        return {"signing": Path(private_path).read_text(), "public": Path(public_path).read_text()}

    def apply(self, settings, *, current: dict, previous: tuple[dict, ...] = ()) -> None:
        """Configure the site as the rotation's environment lines would."""
        settings.SIMPLE_JWT = {
            **settings.SIMPLE_JWT,
            "ALGORITHM": self.algorithm,
            "SIGNING_KEY": current["signing"],
            "VERIFYING_KEY": current["public"],
        }
        if self.algorithm == "HS256":
            settings.JWT_PREVIOUS_SIGNING_KEYS = [key["signing"] for key in previous]
            settings.JWT_PREVIOUS_PUBLIC_KEYS = []
        else:
            settings.JWT_PREVIOUS_SIGNING_KEYS = []
            settings.JWT_PREVIOUS_PUBLIC_KEYS = [key["public"] for key in previous]

    def retire(self, settings) -> None:
        """Remove the previous keys, leaving the current one as it is."""
        settings.JWT_PREVIOUS_SIGNING_KEYS = []
        settings.JWT_PREVIOUS_PUBLIC_KEYS = []


@pytest.fixture(params=ALGORITHMS)
def keys(request, settings, tmp_path):
    keys = Keys(request.param, tmp_path)
    keys.apply(settings, current=keys.a)
    return keys


def me(api, token: str):
    return api.get(reverse("api:me"), **bearer(token))


def refresh(api, token: str):
    return api.post(reverse("api:token_refresh"), {"refresh": token}, format="json")


@pytest.mark.both_paths
def test_a_token_signed_before_the_rotation_works_until_its_key_is_retired(
    api, user, password, keys, settings
):
    before = obtain(api, user.email, password).json()
    assert me(api, before["access"]).status_code == 200

    keys.apply(settings, current=keys.b, previous=(keys.a,))
    during = me(api, before["access"])
    rotated = refresh(api, before["refresh"])

    # Only the previous keys change: a process that verified the token before (the fast
    # path remembers it) must refuse it all the same.
    keys.retire(settings)
    after = me(api, before["access"])

    assert during.status_code == 200
    assert rotated.status_code == 200, rotated.content
    assert me(api, rotated.json()["access"]).status_code == 200
    assert (after.status_code, after.json()["code"]) == (401, "token_not_valid")


@pytest.mark.both_paths
def test_a_refresh_token_of_a_retired_key_is_refused(api, user, password, keys, settings):
    before = obtain(api, user.email, password).json()
    keys.apply(settings, current=keys.b)

    response = refresh(api, before["refresh"])

    assert (response.status_code, response.json()["code"]) == (401, "token_not_valid")


def test_previous_keys_verify_but_never_sign(api, user, password, keys, settings):
    keys.apply(settings, current=keys.b, previous=(keys.a,))

    pair = obtain(api, user.email, password).json()

    current_kid = token_backend().kid
    assert {header_of(pair["access"])["kid"], header_of(pair["refresh"])["kid"]} == {current_kid}
    keys.apply(settings, current=keys.b)
    assert me(api, pair["access"]).status_code == 200


def test_tokens_of_the_two_keys_carry_different_kids(api, user, password, keys, settings):
    first = header_of(obtain(api, user.email, password).json()["access"])["kid"]
    keys.apply(settings, current=keys.b, previous=(keys.a,))
    second = header_of(obtain(api, user.email, password).json()["access"])["kid"]

    assert first
    assert second
    assert first != second


def test_a_token_without_a_kid_is_refused(api, pair, settings):
    token = jwt.encode(claims_of(pair["access"]), settings.SIMPLE_JWT["SIGNING_KEY"], "HS256")

    response = me(api, token)

    assert (response.status_code, response.json()["code"]) == (401, "token_not_valid")


def test_a_token_naming_a_previous_kid_but_signed_by_the_current_key_is_refused(
    api, user, password, keys, settings
):
    # The kid picks the key: a signature made with another key does not verify under it.
    old_kid = header_of(obtain(api, user.email, password).json()["access"])["kid"]
    keys.apply(settings, current=keys.b, previous=(keys.a,))
    claims = claims_of(obtain(api, user.email, password).json()["access"])
    token = jwt.encode(claims, keys.b["signing"], keys.algorithm, headers={"kid": old_kid})

    assert me(api, token).status_code == 401


def test_an_hmac_kid_reveals_nothing_of_the_key():
    key = secrets.token_urlsafe(48)
    sibling = key[:40] + "AAAA"  # the same first 40 characters
    kid = hmac_kid(key)
    digest = hashlib.sha256(key.encode()).digest()
    plain_hash_prefixes = {
        digest.hex()[: len(kid)],
        base64.urlsafe_b64encode(digest).decode()[: len(kid)],
    }

    assert kid not in plain_hash_prefixes
    assert not any(key[i : i + 6] in kid for i in range(len(key) - 5))
    assert hmac_kid(sibling) != kid
    assert len(kid) < len(key)
    assert hmac_kid(key) == kid  # stable: the same key always has the same kid


# --- The JWKS ----------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
def test_the_jwks_publishes_the_current_key_then_the_previous_ones(
    api, user, password, algorithm, settings, tmp_path
):
    keys = Keys(algorithm, tmp_path)
    keys.apply(settings, current=keys.a)
    old_token = obtain(api, user.email, password).json()["access"]
    keys.apply(settings, current=keys.b, previous=(keys.a,))
    new_token = obtain(api, user.email, password).json()["access"]

    published = api.get(reverse("jwks")).json()["keys"]

    assert [key["kid"] for key in published] == [
        header_of(new_token)["kid"],
        header_of(old_token)["kid"],
    ]
    for token in (old_token, new_token):
        (jwk,) = [key for key in published if key["kid"] == header_of(token)["kid"]]
        jwt.decode(
            token,
            jwt.PyJWK.from_dict(jwk).key,
            algorithms=[jwk["alg"]],
            audience=settings.SIMPLE_JWT["AUDIENCE"],
        )


def test_the_jwks_publishes_no_hmac_key(api, settings):
    settings.JWT_PREVIOUS_SIGNING_KEYS = [secrets.token_urlsafe(48)]

    assert api.get(reverse("jwks")).status_code == 404


# --- Refusing bad previous keys ----------------------------------------------------------


def test_the_system_check_refuses_a_short_previous_hmac_key(settings):
    settings.JWT_PREVIOUS_SIGNING_KEYS = ["short"]
    with pytest.raises(SystemCheckError, match="api.E004"):
        call_command("check")


def test_the_system_check_refuses_a_previous_key_equal_to_the_current_one(settings):
    settings.JWT_PREVIOUS_SIGNING_KEYS = [settings.SIMPLE_JWT["SIGNING_KEY"]]
    with pytest.raises(SystemCheckError, match="api.E005"):
        call_command("check")


def test_the_system_check_refuses_a_previous_public_key_it_cannot_read(settings):
    settings.JWT_PREVIOUS_PUBLIC_KEYS = ["-----BEGIN PUBLIC KEY-----\nnot a key\n"]
    with pytest.raises(SystemCheckError, match="api.E006"):
        call_command("check")


@pytest.mark.parametrize(
    "header",
    [b"[1, 2]", b'"kid"', b"[" * 1000 + b"]" * 1000, b"\xff\xfe", b'{"kid": ["a"]}'],
    ids=["a list", "a string", "deeply nested", "not utf-8", "kid not a string"],
)
def test_a_token_whose_header_names_no_key_is_a_401(api, pair, header):
    _, body, signature = pair["access"].split(".")
    token = f"{b64url(header)}.{body}.{signature}"

    response = me(api, token)

    assert (response.status_code, response.json()["code"]) == (401, "token_not_valid")
