"""
The stand-alone resource server: it verifies the shop's access tokens with nothing but the
published public key. Tokens here are made the way api.tokens makes them (kid, iss,
aud, jti, token_type); the key set is served by a function instead of the shop.
"""

import base64
import hashlib
import hmac
import json
import time
import uuid
from wsgiref.util import setup_testing_defaults

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from resource_server.app import KeySet, ResourceServer, TokenVerifier, create_app, jwks_uri_discover

ISSUER = "sessions-vs-jwt-shop"
AUDIENCE = "sessions-vs-jwt-shop-api"


class Signer:
    """A key pair as the shop holds it: signs tokens, publishes its JWK."""

    def __init__(self, private_key, algorithm: str, kid: str):
        self.private_key = private_key
        self.algorithm = algorithm
        self.kid = kid

    @property
    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwk(self) -> dict:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        jwk = algorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def token(self, **overrides) -> str:
        now = int(time.time())
        claims = {
            "token_type": "access",
            "exp": now + 300,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "user_id": "7",
            "sid": str(uuid.uuid4()),
            "email": "kim@example.com",
            "hash_password": "not-for-the-resource-server",
            "iss": ISSUER,
            "aud": AUDIENCE,
        }
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(
            claims, self.private_key, algorithm=self.algorithm, headers={"kid": self.kid}
        )


@pytest.fixture(scope="module")
def rsa_signer():
    return Signer(rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256", "r1")


@pytest.fixture(scope="module")
def ed_signer():
    return Signer(ed25519.Ed25519PrivateKey.generate(), "EdDSA", "e1")


class Publisher:
    """The shop's /.well-known/jwks.json: what it publishes, and how often it was asked."""

    def __init__(self, *signers):
        self.signers = list(signers)
        self.fetches = 0

    def __call__(self, url: str) -> dict:
        self.fetches += 1
        return {"keys": [signer.jwk() for signer in self.signers]}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def publisher(rsa_signer, ed_signer):
    return Publisher(rsa_signer, ed_signer)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def server(publisher, clock):
    keys = KeySet(
        url="https://shop.example/.well-known/jwks.json",
        algorithms=frozenset({"RS256", "EdDSA"}),
        min_refresh_seconds=60,
        fetch=publisher,
        clock=clock,
    )
    keys.refresh()
    return ResourceServer(TokenVerifier(keys=keys, issuer=ISSUER, audience=AUDIENCE))


def call(app, path="/whoami", token=None, method="GET", authorization=None):
    environ = {"PATH_INFO": path, "REQUEST_METHOD": method}
    if token is not None:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, headers):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(headers)

    body = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], json.loads(body)


def hand_made_token(header: dict, claims: dict, sign) -> str:
    def part(data: dict) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{part(header)}.{part(claims)}"
    signature = base64.urlsafe_b64encode(sign(signing_input.encode())).rstrip(b"=").decode()
    return f"{signing_input}.{signature}"


@pytest.mark.parametrize("signer_name", ["rsa_signer", "ed_signer"])
def test_whoami_answers_with_the_claims_of_a_valid_access_token(server, signer_name, request):
    signer = request.getfixturevalue(signer_name)

    status, _, body = call(server, token=signer.token(user_id="42"))

    assert status == 200
    assert body["user_id"] == "42"
    assert body["email"] == "kim@example.com"
    assert "hash_password" not in body


def test_every_answer_of_the_resource_server_is_not_stored(server, rsa_signer):
    # RFC 6749 §5.1 for the claims it answers with, and for its refusals too.
    answers = [
        call(server, token=rsa_signer.token()),
        call(server, token=rsa_signer.token(exp=int(time.time()) - 1)),
        call(server),
        call(server, path="/nowhere"),
    ]
    assert [status for status, _, _ in answers] == [200, 401, 401, 404]
    assert {headers.get("Cache-Control") for _, headers, _ in answers} == {"no-store"}


def test_healthz_needs_no_token(server):
    assert call(server, path="/healthz")[:3:2] == (200, {"status": "ok"})


def test_a_request_without_a_token_gets_a_bearer_challenge_without_an_error(server):
    status, headers, _ = call(server)

    assert status == 401
    assert headers["WWW-Authenticate"] == 'Bearer realm="resource-server"'


def test_a_refused_token_gets_an_invalid_token_challenge(server, rsa_signer):
    status, headers, _ = call(server, token=rsa_signer.token(exp=int(time.time()) - 1))

    assert status == 401
    assert headers["WWW-Authenticate"].startswith(
        'Bearer realm="resource-server", error="invalid_token"'
    )


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": 1}, "The token has expired."),
        ({"aud": "someone-else"}, "The token is not for this service."),
        # Strictly its own: a token for several services could be replayed by any of them.
        ({"aud": [AUDIENCE, "someone-else"]}, "The token is not for this service."),
        ({"iss": "https://evil.example"}, "The token is invalid."),
        ({"jti": None}, "The token is invalid."),
        ({"iat": None}, "The token is invalid."),
        ({"token_type": "refresh"}, "Only access tokens are accepted here."),
    ],
    ids=["expired", "audience", "several-audiences", "issuer", "no-jti", "no-iat", "refresh-token"],
)
def test_tokens_failing_a_claim_check_are_refused(server, rsa_signer, claims, reason):
    status, _, body = call(server, token=rsa_signer.token(**claims))

    assert (status, body["detail"]) == (401, reason)


def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(server, rsa_signer):
    impostor = Signer(rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256", "r1")

    status, _, body = call(server, token=impostor.token())

    assert (status, body["detail"]) == (401, "The token is invalid.")


def test_an_hmac_token_keyed_with_the_public_key_is_refused(server, rsa_signer):
    # The classic key confusion: HS256 "signed" with the public key, which anyone can read.
    token = hand_made_token(
        {"alg": "HS256", "typ": "JWT", "kid": "r1"},
        jwt.decode(rsa_signer.token(), options={"verify_signature": False}),
        lambda data: hmac.new(rsa_signer.public_pem, data, hashlib.sha256).digest(),
    )

    status, _, body = call(server, token=token)

    assert (status, body["detail"]) == (401, "The token's algorithm is not accepted.")


def test_an_unsigned_token_is_refused(server, rsa_signer):
    claims = jwt.decode(rsa_signer.token(), options={"verify_signature": False})
    token = hand_made_token({"alg": "none", "kid": "r1"}, claims, lambda data: b"")

    assert call(server, token=token)[0] == 401


def test_a_token_whose_algorithm_differs_from_its_keys_is_refused(server, ed_signer, rsa_signer):
    # An RSA signature presented under the Ed25519 key's kid.
    token = Signer(rsa_signer.private_key, "RS256", ed_signer.kid).token()

    status, _, body = call(server, token=token)

    assert (status, body["detail"]) == (401, "The token's algorithm does not match its key.")


def test_garbage_in_the_authorization_header_is_refused(server):
    for authorization in ["Bearer not.a.jwt", "Bearer " + "a" * 5000, "Basic a2ltOnB3"]:
        assert call(server, authorization=authorization)[0] == 401


def test_a_key_published_later_is_fetched_on_first_use(server, publisher, clock):
    rotated = Signer(ed25519.Ed25519PrivateKey.generate(), "EdDSA", "e2")
    publisher.signers.append(rotated)
    clock.now += 61

    status, _, _ = call(server, token=rotated.token())

    assert status == 200
    assert publisher.fetches == 2


def test_unknown_kids_refetch_the_key_set_at_most_once_per_interval(server, publisher, clock):
    strangers = [
        Signer(ed25519.Ed25519PrivateKey.generate(), "EdDSA", f"made-up-{n}") for n in range(5)
    ]
    clock.now += 61

    statuses = [call(server, token=stranger.token())[0] for stranger in strangers]

    assert statuses == [401] * 5
    assert publisher.fetches == 2


def test_only_the_whoami_and_healthz_routes_exist(server, rsa_signer):
    assert call(server, path="/admin", token=rsa_signer.token())[0] == 404
    assert call(server, method="POST", token=rsa_signer.token())[0] == 405


@pytest.mark.parametrize("algorithms", ["HS256", "RS256,HS256", "none", ""])
def test_the_server_refuses_to_start_with_a_shared_secret_algorithm(algorithms):
    with pytest.raises(RuntimeError, match="public-key algorithms"):
        create_app({"JWKS_URL": "http://127.0.0.1:1/jwks.json", "JWT_ALGORITHMS": algorithms})


def test_the_server_refuses_to_start_without_a_key_set_url():
    with pytest.raises(RuntimeError, match="JWKS_URL"):
        create_app({})


def test_the_server_refuses_to_start_without_an_audience_of_its_own():
    # No default: one shared with the shop's API would let either replay the other's tokens.
    with pytest.raises(RuntimeError, match="JWT_AUDIENCE"):
        create_app({"JWKS_URL": "http://127.0.0.1:1/jwks.json", "JWT_ALGORITHMS": "RS256"})


def test_a_key_the_shop_withdraws_stops_working_once_the_set_is_stale(
    server, publisher, clock, rsa_signer
):
    token = rsa_signer.token()
    publisher.signers.remove(rsa_signer)
    accepted_meanwhile = call(server, token=token)[0]
    clock.now += 301

    assert accepted_meanwhile == 200
    assert call(server, token=token)[0] == 401


def test_the_keys_it_has_keep_working_while_the_shop_cannot_be_reached(
    server, publisher, clock, rsa_signer
):
    def unreachable(url):
        publisher.fetches += 1
        raise OSError("connection refused")

    server.verifier.keys.fetch = unreachable
    clock.now += 301

    statuses = [call(server, token=rsa_signer.token())[0] for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert publisher.fetches == 2


# --- Finding the key set from the authorization-server metadata (RFC 8414) ---------------

METADATA_URL = "https://shop.example/.well-known/oauth-authorization-server"
JWKS_URL = "https://shop.example/.well-known/jwks.json"


def test_the_key_set_is_found_from_the_authorization_server_metadata():
    def fetch(url):
        assert url == METADATA_URL
        return {"issuer": ISSUER, "jwks_uri": JWKS_URL, "token_endpoint": "https://shop.example/t"}

    assert jwks_uri_discover(METADATA_URL, issuer=ISSUER, fetch=fetch) == JWKS_URL


def test_metadata_of_another_issuer_is_refused():
    # RFC 8414 §3.3: the metadata must be the issuer's own, or keys of another could be used.
    def fetch(url):
        return {"issuer": "https://evil.example", "jwks_uri": "https://evil.example/jwks"}

    with pytest.raises(RuntimeError, match="issuer"):
        jwks_uri_discover(METADATA_URL, issuer=ISSUER, fetch=fetch)


def test_metadata_without_a_key_set_is_refused():
    # The shop signs with a shared secret (HS256): nothing here could verify its tokens.
    def fetch(url):
        return {"issuer": ISSUER, "token_endpoint": "https://shop.example/t"}

    with pytest.raises(RuntimeError, match="jwks_uri"):
        jwks_uri_discover(METADATA_URL, issuer=ISSUER, fetch=fetch)


def test_the_server_refuses_two_ways_of_finding_its_keys():
    with pytest.raises(RuntimeError, match="not both"):
        create_app({"JWKS_URL": JWKS_URL, "AUTHORIZATION_SERVER_METADATA_URL": METADATA_URL})
