"""Signing keys: HS256 by default, RS256 or EdDSA from a key pair with a published JWKS."""

import hashlib
import hmac
import os
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from api.keys import public_jwk
from bench.processes import manage
from tests.support.api import b64url, bearer, claims_of, forge, header_of, make_key_pair, obtain

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_under_hs256_there_is_no_public_key_to_publish(client):
    response = client.get(reverse("jwks"))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_asymmetric_tokens_carry_the_kid_of_the_published_key(api, user, password, key_pair):
    algorithm, _, _ = key_pair
    pair = obtain(api, user.email, password).json()
    jwks = api.get(reverse("jwks")).json()
    (key,) = jwks["keys"]
    assert key["alg"] == algorithm
    assert key["use"] == "sig"
    assert header_of(pair["access"]) == {"alg": algorithm, "typ": "JWT", "kid": key["kid"]}
    assert api.get(reverse("api:me"), **bearer(pair["access"])).status_code == 200


def test_the_jwks_verifies_our_tokens_for_a_third_party(api, user, password, key_pair, settings):
    pair = obtain(api, user.email, password).json()
    (jwk,) = api.get(reverse("jwks")).json()["keys"]
    claims = jwt.decode(
        pair["access"],
        jwt.PyJWK.from_dict(jwk).key,
        algorithms=[jwk["alg"]],
        audience=settings.SIMPLE_JWT["AUDIENCE"],
        issuer=settings.SIMPLE_JWT["ISSUER"],
    )
    assert claims["user_id"] == str(user.pk)


def test_the_jwks_holds_no_private_key_material(api, key_pair):
    (jwk,) = api.get(reverse("jwks")).json()["keys"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)


def test_the_jwks_may_be_cached_by_clients(api, key_pair):
    assert "max-age=300" in api.get(reverse("jwks"))["Cache-Control"]


def test_the_kid_is_the_rfc_7638_thumbprint(settings):
    # The example key of RFC 7638, section 3.1, and the thumbprint the RFC gives for it.
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
        "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_F"
        "DW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4"
        "vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    public_key = jwt.PyJWK.from_dict({"kty": "RSA", "n": n, "e": "AQAB"}).key
    pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ALGORITHM": "RS256", "VERIFYING_KEY": pem}
    assert public_jwk()["kid"] == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_an_hmac_token_keyed_with_the_public_key_is_refused(api, pair, key_pair, settings):
    # The classic confusion attack: sign HS256 with the public key an RS/EdDSA verifier
    # trusts. PyJWT refuses to make this token, so it is made by hand.
    public_pem = settings.SIMPLE_JWT["VERIFYING_KEY"].encode()
    claims = claims_of(pair["access"])
    for header in (
        {"alg": "HS256", "typ": "JWT"},
        {"alg": "HS256", "kid": public_jwk()["kid"]},
    ):
        unsigned = forge(header, claims).rsplit(".", 1)[0]
        signature = hmac.new(public_pem, unsigned.encode(), hashlib.sha256).digest()
        token = f"{unsigned}.{b64url(signature)}"
        assert api.get(reverse("api:me"), **bearer(token)).status_code == 401


def test_a_token_signed_by_another_key_pair_is_refused(api, user, password, key_pair, tmp_path):
    algorithm, _, _ = key_pair
    pair = obtain(api, user.email, password).json()
    claims = claims_of(pair["access"])
    (tmp_path / "other").mkdir()
    other_private, _ = make_key_pair(algorithm, tmp_path / "other")
    forged = jwt.encode(
        claims,
        Path(other_private).read_text(),
        algorithm=algorithm,
        headers={"kid": header_of(pair["access"])["kid"]},
    )
    assert api.get(reverse("api:me"), **bearer(forged)).status_code == 401


def test_a_token_with_an_unknown_kid_is_refused(api, user, password, key_pair, settings):
    algorithm, private_path, _ = key_pair
    claims = claims_of(obtain(api, user.email, password).json()["access"])
    token = jwt.encode(
        claims, Path(private_path).read_text(), algorithm=algorithm, headers={"kid": "retired"}
    )
    assert api.get(reverse("api:me"), **bearer(token)).status_code == 401


def test_the_system_check_refuses_a_private_key_that_does_not_match_the_public_one(
    key_pair, settings, tmp_path
):
    algorithm, _, _ = key_pair
    (tmp_path / "other").mkdir()
    other_private, _ = make_key_pair(algorithm, tmp_path / "other")
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": Path(other_private).read_text()}
    with pytest.raises(SystemCheckError, match="api.E003"):
        call_command("check")


def test_the_system_check_refuses_a_short_rsa_key(settings):
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the weak key under test.
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "ALGORITHM": "RS256",
        "SIGNING_KEY": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "VERIFYING_KEY": key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    }
    with pytest.raises(SystemCheckError, match="fewer than 2048"):
        call_command("check")


def test_the_system_check_refuses_a_short_hmac_key(settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "short"}
    with pytest.raises(SystemCheckError, match="api.E001"):
        call_command("check")


# --- Production settings, run as a deployment would run them -------------------------------

PRODUCTION_ENV = {
    "SECRET_KEY": "x7Kq2-unique-enough-production-secret-for-the-deploy-check-9fZ",
    "ALLOWED_HOSTS": "shop.example.com",
}


def _production_check(**env_overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("JWT_") and k not in {"SECRET_KEY", "ALLOWED_HOSTS"}
    }
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", **PRODUCTION_ENV})
    env.update(env_overrides)
    return manage("check", "--deploy", "--fail-level", "WARNING", env=env)


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
def test_production_runs_on_a_key_pair_without_a_shared_secret(algorithm, tmp_path):
    private_path, public_path = make_key_pair(algorithm, tmp_path)
    result = _production_check(
        JWT_ALGORITHM=algorithm, JWT_PRIVATE_KEY_FILE=private_path, JWT_PUBLIC_KEY_FILE=public_path
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_with_an_asymmetric_algorithm_requires_the_key_files():
    result = _production_check(JWT_ALGORITHM="RS256")
    assert result.returncode != 0
    assert "JWT_PRIVATE_KEY_FILE" in result.stderr


def test_production_refuses_a_jwt_key_equal_to_the_secret_key():
    result = _production_check(JWT_SIGNING_KEY=PRODUCTION_ENV["SECRET_KEY"])
    assert result.returncode != 0
    assert "must differ from SECRET_KEY" in result.stderr


def test_production_refuses_a_previous_jwt_key_equal_to_the_current_one():
    key = "a-current-jwt-signing-key-of-more-than-forty-three-characters-0123"
    result = _production_check(JWT_SIGNING_KEY=key, JWT_PREVIOUS_SIGNING_KEYS=f"{'b' * 43},{key}")
    assert result.returncode != 0
    assert "JWT_PREVIOUS_SIGNING_KEYS must not list the current JWT_SIGNING_KEY" in result.stderr


def test_production_refuses_a_short_previous_jwt_key():
    key = "a-current-jwt-signing-key-of-more-than-forty-three-characters-0123"
    result = _production_check(JWT_SIGNING_KEY=key, JWT_PREVIOUS_SIGNING_KEYS="too-short")
    assert result.returncode != 0
    assert "JWT_PREVIOUS_SIGNING_KEYS" in result.stderr
    assert "43+ characters" in result.stderr


def _key_pair_env(algorithm: str, directory) -> dict[str, str]:
    """The environment lines of a fresh key pair for the algorithm, written to directory."""
    private_path, public_path = make_key_pair(algorithm, directory)
    return {
        "JWT_ALGORITHM": algorithm,
        "JWT_PRIVATE_KEY_FILE": private_path,
        "JWT_PUBLIC_KEY_FILE": public_path,
    }


def test_production_refuses_a_previous_public_key_file_equal_to_the_current_one(tmp_path):
    keys = _key_pair_env("EdDSA", tmp_path)
    result = _production_check(**keys, JWT_PREVIOUS_PUBLIC_KEY_FILES=keys["JWT_PUBLIC_KEY_FILE"])
    assert result.returncode != 0
    assert "JWT_PREVIOUS_PUBLIC_KEY_FILES must not list the current public key" in result.stderr


def test_production_runs_with_previous_keys_of_both_kinds(tmp_path):
    (tmp_path / "old").mkdir()
    _, old_public_path = make_key_pair("RS256", tmp_path / "old")
    result = _production_check(
        **_key_pair_env("RS256", tmp_path),
        JWT_PREVIOUS_PUBLIC_KEY_FILES=old_public_path,
        JWT_PREVIOUS_SIGNING_KEYS="an-hs256-key-retiring-after-a-move-to-rs256-0123456789",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_refuses_a_previous_public_key_file_it_cannot_read(tmp_path):
    result = _production_check(
        **_key_pair_env("RS256", tmp_path),
        JWT_PREVIOUS_PUBLIC_KEY_FILES=str(tmp_path / "retired-long-ago.pem"),
    )
    assert result.returncode != 0
    assert "JWT_PREVIOUS_PUBLIC_KEY_FILES" in result.stderr
    assert "cannot be read" in result.stderr
