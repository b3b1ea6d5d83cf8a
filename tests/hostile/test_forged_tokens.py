"""
The forged-token matrix: every way of forging, bending or stretching a JWT that we know of,
against ``/api/me/`` (access tokens) and ``/api/auth/token/refresh/`` (refresh tokens),
under each signing algorithm the site supports (HS256, RS256, EdDSA).

Each forged token is a ``401`` with the API's JSON error body, never a ``500``, and the
genuine token still works afterwards (a forged refresh token ends nothing). Tokens that
must fail for one reason only are otherwise genuine: signed with the site's real key, so
that it is the defect under test, not a bad signature, that gets them refused.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.urls import reverse
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm
from rest_framework.test import APIClient

from api.keys import MAX_TOKEN_BYTES, token_backend
from tests.support.api import b64url, claims_of, forge, make_key_pair

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]

ALGORITHMS = ("HS256", "RS256", "EdDSA")
ATTACKER_JWKS = "https://attacker.example/.well-known/jwks.json"
ATTACKER_CERT = "https://attacker.example/cert.pem"


# --- Keys -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key_files(tmp_path_factory):
    """One throwaway key pair per asymmetric algorithm for the whole module (RSA is slow)."""
    directory = tmp_path_factory.mktemp("keys")
    return {algorithm: make_key_pair(algorithm, directory) for algorithm in ("RS256", "EdDSA")}


@cache
def attacker_key(algorithm: str):
    """The attacker's own private key, of the kind the algorithm uses (RSA under HS256)."""
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def attacker_jwk(algorithm: str) -> dict:
    public = attacker_key(algorithm).public_key()
    if algorithm == "EdDSA":
        return OKPAlgorithm.to_jwk(public, as_dict=True)
    return RSAAlgorithm.to_jwk(public, as_dict=True)


@dataclass
class Site:
    """The site's signing setup and the genuine tokens of one signed-in user."""

    algorithm: str
    signing_key: str
    public_key: str | None
    kid: str | None
    access: str
    refresh: str
    other_user_id: str

    @property
    def attacker_algorithm(self) -> str:
        return "RS256" if self.algorithm == "HS256" else self.algorithm

    def sign(self, claims: dict, **headers) -> str:
        """Sign with the site's real key (and its kid, if it has one)."""
        header = {"kid": self.kid} if self.kid else {}
        header.update(headers)
        return jwt.encode(claims, self.signing_key, algorithm=self.algorithm, headers=header)

    def sign_as_attacker(self, claims: dict, **headers) -> str:
        """Sign with the attacker's key, whatever the headers claim."""
        return jwt.encode(
            claims,
            attacker_key(self.attacker_algorithm),
            algorithm=self.attacker_algorithm,
            headers=headers,
        )


@pytest.fixture(params=ALGORITHMS)
def site(request, settings, key_files, user, other_user, password):
    """Switch the site to one algorithm and sign ``user`` in through the token endpoint."""
    algorithm = request.param
    if algorithm == "HS256":
        signing_key, public_key = settings.SIMPLE_JWT["SIGNING_KEY"], None
    else:
        private_path, public_path = key_files[algorithm]
        signing_key, public_key = Path(private_path).read_text(), Path(public_path).read_text()
        settings.SIMPLE_JWT = {
            **settings.SIMPLE_JWT,
            "ALGORITHM": algorithm,
            "SIGNING_KEY": signing_key,
            "VERIFYING_KEY": public_key,
        }
    response = APIClient().post(
        reverse("api:token_obtain"), {"email": user.email, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return Site(
        algorithm=algorithm,
        signing_key=signing_key,
        public_key=public_key,
        kid=token_backend().kid,
        access=response.json()["access"],
        refresh=response.json()["refresh"],
        other_user_id=str(other_user.pk),
    )


# --- Forgeries --------------------------------------------------------------------------
# Each takes the site and the genuine token of the kind under test, and returns a forgery.


def hs256_by_hand(header: dict, claims: dict, key: bytes) -> str:
    """HMAC-sign by hand: PyJWT refuses an empty key and a public key as HMAC secrets."""
    unsigned = forge({"typ": "JWT", **header}, claims).rsplit(".", 1)[0]
    return f"{unsigned}.{b64url(hmac.new(key, unsigned.encode(), hashlib.sha256).digest())}"


def alg_none(spelling: str):
    def make(site: Site, genuine: str) -> str:
        return forge({"alg": spelling, "typ": "JWT"}, claims_of(genuine))

    return make


def hs256_empty_key(site, genuine):
    return hs256_by_hand({"alg": "HS256"}, claims_of(genuine), b"")


def hs256_keyed_with_the_public_key(site, genuine):
    # The classic algorithm confusion: a verifier that feeds its public key to HMAC.
    return hs256_by_hand(
        {"alg": "HS256", "kid": site.kid}, claims_of(genuine), site.public_key.encode()
    )


def hs256_keyed_with_the_public_key_without_kid(site, genuine):
    return hs256_by_hand({"alg": "HS256"}, claims_of(genuine), site.public_key.encode())


def tampered_claims(site, genuine):
    head, _, signature = genuine.split(".")
    claims = {**claims_of(genuine), "user_id": site.other_user_id}
    return f"{head}.{forge({}, claims).split('.')[1]}.{signature}"


def tampered_header(site, genuine):
    _, body, signature = genuine.split(".")
    head = forge({"alg": site.algorithm, "typ": "JWT", "kid": "x"}, {}).split(".")[0]
    return f"{head}.{body}.{signature}"


def expired(site, genuine):
    return site.sign({**claims_of(genuine), "exp": int(time.time()) - 3600})


def not_yet_valid(site, genuine):
    return site.sign({**claims_of(genuine), "nbf": int(time.time()) + 3600})


def wrong_audience(site, genuine):
    return site.sign({**claims_of(genuine), "aud": "another-api"})


def wrong_issuer(site, genuine):
    return site.sign({**claims_of(genuine), "iss": "https://attacker.example"})


def unknown_kid(site, genuine):
    return site.sign(claims_of(genuine), kid="someone-elses-key")


def jku_to_attacker_keys(site, genuine):
    return site.sign_as_attacker(claims_of(genuine), jku=ATTACKER_JWKS, kid="attacker")


def jku_naming_our_kid(site, genuine):
    return site.sign_as_attacker(claims_of(genuine), jku=ATTACKER_JWKS, kid=site.kid or "k")


def x5u_to_attacker_certificate(site, genuine):
    return site.sign_as_attacker(claims_of(genuine), x5u=ATTACKER_CERT, kid="attacker")


def embedded_attacker_jwk(site, genuine):
    return site.sign_as_attacker(claims_of(genuine), jwk=attacker_jwk(site.attacker_algorithm))


def embedded_attacker_jwk_naming_our_kid(site, genuine):
    jwk = {**attacker_jwk(site.attacker_algorithm), "kid": site.kid or "k"}
    return site.sign_as_attacker(claims_of(genuine), jwk=jwk, kid=site.kid or "k")


def oversize(site, genuine):
    token = site.sign({**claims_of(genuine), "pad": "x" * 5000})
    assert len(token) > MAX_TOKEN_BYTES
    return token


def oversize_garbage(site, genuine):
    return "a" * 100_000


FORGERIES = {
    "alg none": alg_none("none"),
    "alg None": alg_none("None"),
    "alg NONE": alg_none("NONE"),
    "alg nOnE": alg_none("nOnE"),
    "HS256 with an empty key": hs256_empty_key,
    "HS256 keyed with the public key": hs256_keyed_with_the_public_key,
    "HS256 keyed with the public key, no kid": hs256_keyed_with_the_public_key_without_kid,
    "tampered claims": tampered_claims,
    "tampered header": tampered_header,
    "expired": expired,
    "future nbf": not_yet_valid,
    "wrong aud": wrong_audience,
    "wrong iss": wrong_issuer,
    "unknown kid": unknown_kid,
    "jku to the attacker's keys": jku_to_attacker_keys,
    "jku naming our kid": jku_naming_our_kid,
    "x5u to the attacker's certificate": x5u_to_attacker_certificate,
    "jwk header with the attacker's key": embedded_attacker_jwk,
    "jwk header naming our kid": embedded_attacker_jwk_naming_our_kid,
    "oversize, genuinely signed": oversize,
    "oversize garbage": oversize_garbage,
}
# Forgeries that only mean something when the site signs with a key pair.
ASYMMETRIC_ONLY = {"HS256 keyed with the public key", "HS256 keyed with the public key, no kid"}


MATRIX = [
    pytest.param(algorithm, name, id=f"{algorithm}: {name}")
    for algorithm in ALGORITHMS
    for name in FORGERIES
    if not (name in ASYMMETRIC_ONLY and algorithm == "HS256")
]


# --- The tests --------------------------------------------------------------------------


def assert_401_json(response):
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail", "code"}


def me(token: str):
    return APIClient().get(reverse("api:me"), HTTP_AUTHORIZATION=f"Bearer {token}")


def refresh(token: str):
    return APIClient().post(reverse("api:token_refresh"), {"refresh": token}, format="json")


@pytest.mark.parametrize("site", ALGORITHMS, indirect=True)
def test_the_forger_signs_exactly_as_the_site_does(site):
    # The control: re-signing genuine claims with the site's key is accepted, so each
    # genuinely signed forgery below is refused for its defect alone.
    assert me(site.sign(claims_of(site.access))).status_code == 200
    assert refresh(site.sign(claims_of(site.refresh))).status_code == 200


@pytest.mark.parametrize(("site", "forgery"), MATRIX, indirect=["site"])
def test_a_forged_access_token_is_refused_and_the_genuine_one_still_works(site, forgery):
    assert_401_json(me(FORGERIES[forgery](site, site.access)))
    assert me(site.access).status_code == 200


@pytest.mark.parametrize(("site", "forgery"), MATRIX, indirect=["site"])
def test_a_forged_refresh_token_is_refused_and_ends_nothing(site, forgery):
    assert_401_json(refresh(FORGERIES[forgery](site, site.refresh)))
    assert refresh(site.refresh).status_code == 200
    assert me(site.access).status_code == 200


@pytest.mark.parametrize("site", ALGORITHMS, indirect=True)
def test_a_refresh_token_is_no_access_token(site):
    assert_401_json(me(site.refresh))


@pytest.mark.parametrize("site", ALGORITHMS, indirect=True)
def test_an_access_token_is_no_refresh_token(site):
    assert_401_json(refresh(site.access))
    assert refresh(site.refresh).status_code == 200


@pytest.mark.parametrize("site", ALGORITHMS, indirect=True)
def test_the_genuine_tokens_survive_the_whole_barrage(site):
    for name, forgery in FORGERIES.items():
        if name in ASYMMETRIC_ONLY and site.algorithm == "HS256":
            continue
        assert me(forgery(site, site.access)).status_code == 401, name
        assert refresh(forgery(site, site.refresh)).status_code == 401, name
    assert me(site.access).status_code == 200
    assert refresh(site.refresh).status_code == 200
