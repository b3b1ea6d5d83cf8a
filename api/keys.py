"""
The keys that sign and verify the API's tokens: simplejwt's token backend with a ``kid``
on every token and stricter decoding, and the JWKS document that publishes the public keys
under RS256 and EdDSA.

One key signs: the current one (``SIMPLE_JWT["SIGNING_KEY"]``). The previous keys of a
rotation (``settings.JWT_PREVIOUS_SIGNING_KEYS`` for HS256 secrets,
``settings.JWT_PREVIOUS_PUBLIC_KEYS`` for RS256/EdDSA public keys) still verify, so a key
change signs nobody out, and never sign. A token is verified with the key its ``kid``
names, under that key's algorithm; a token naming no key of ours is refused.

Built from the settings on first use and built again when they change, never at import
time.
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.conf import settings
from django.test.signals import setting_changed
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken

# A token of ours is a few hundred bytes (under 1 KiB with an RSA signature); anything much
# larger is refused before it is parsed.
MAX_TOKEN_BYTES = 4096

ASYMMETRIC_ALGORITHMS = {"RS256", "EdDSA"}

# The settings the keys are built from; a change to any of them rebuilds them.
KEY_SETTINGS = ("SIMPLE_JWT", "JWT_PREVIOUS_SIGNING_KEYS", "JWT_PREVIOUS_PUBLIC_KEYS")

# What an HMAC key's kid is computed over (see hmac_kid). Changing it changes every kid, so
# every live HS256 token would be refused: leave it alone.
_HMAC_KID_LABEL = b"sessions-vs-jwt-shop/jwt-kid/v1"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hmac_kid(secret: str) -> str:
    """
    Return the ``kid`` of an HS256 secret: HMAC-SHA256 of a fixed label under the secret,
    truncated to 128 bits.

    Every token already lets anyone test a guessed secret offline against its signature, so
    no kid can be kept from doing the same; what a kid must not do is give away any part of
    the secret or make a guess cheaper to test. A prefix of the secret would give part of it
    away, and a plain hash of it would be a value another system might compute too (the
    same secret hashed for another purpose would then link the two); an HMAC under the
    secret costs a guesser exactly what checking a token's signature costs, reveals nothing
    without the secret, and the label makes it ours alone. 128 bits tell our few keys apart
    with no chance of a collision.
    """
    return _b64url(hmac.new(secret.encode(), _HMAC_KID_LABEL, hashlib.sha256).digest()[:16])


def public_key_jwk(pem: str) -> dict:
    """
    Return a PEM public key as a JWK with its algorithm (RS256 for RSA, EdDSA for Ed25519)
    and its ``kid``, the RFC 7638 thumbprint.
    """
    key = serialization.load_pem_public_key(pem.encode())
    if isinstance(key, RSAPublicKey):
        jwk, algorithm = RSAAlgorithm.to_jwk(key, as_dict=True), "RS256"
        members = {name: jwk[name] for name in ("e", "kty", "n")}
    elif isinstance(key, Ed25519PublicKey):
        jwk, algorithm = OKPAlgorithm.to_jwk(key, as_dict=True), "EdDSA"
        members = {name: jwk[name] for name in ("crv", "kty", "x")}
    else:
        raise TypeError(f"{type(key).__name__} keys are not supported: use RSA or Ed25519.")
    # RFC 7638: the required members only, sorted, no whitespace, hashed with SHA-256.
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return {**members, "kid": _b64url(hashlib.sha256(canonical).digest()), "alg": algorithm}


@dataclass(frozen=True)
class VerifyingKey:
    """A key that verifies tokens naming its ``kid``, under its one algorithm."""

    kid: str
    algorithm: str
    key: Any  # prepared for PyJWT: the secret's bytes, or a public key object
    jwk: dict | None  # the public JWK; None for a shared secret


def _hmac_key(secret: str) -> VerifyingKey:
    prepared = jwt.get_algorithm_by_name("HS256").prepare_key(secret)
    return VerifyingKey(kid=hmac_kid(secret), algorithm="HS256", key=prepared, jwk=None)


def _public_key(pem: str, *, algorithm: str | None = None) -> VerifyingKey:
    jwk = public_key_jwk(pem)
    if algorithm and jwk["alg"] != algorithm:
        raise TypeError(f"The public key is a key for {jwk['alg']}, not for {algorithm}.")
    prepared = jwt.get_algorithm_by_name(jwk["alg"]).prepare_key(pem)
    return VerifyingKey(kid=jwk["kid"], algorithm=jwk["alg"], key=prepared, jwk=jwk)


@cache
def verifying_keys() -> tuple[VerifyingKey, ...]:
    """Return the keys that verify our tokens: the current one first, then the previous."""
    jwt_settings = settings.SIMPLE_JWT
    if jwt_settings["ALGORITHM"] in ASYMMETRIC_ALGORITHMS:
        current = _public_key(jwt_settings["VERIFYING_KEY"], algorithm=jwt_settings["ALGORITHM"])
    else:
        current = _hmac_key(jwt_settings["SIGNING_KEY"] or "")
    previous = [_public_key(pem) for pem in settings.JWT_PREVIOUS_PUBLIC_KEYS]
    previous += [_hmac_key(secret) for secret in settings.JWT_PREVIOUS_SIGNING_KEYS]
    return (current, *(key for key in previous if key.kid != current.kid))


def public_jwk() -> dict | None:
    """Return the current public key as a JWK, or None when it is a shared secret (HS256)."""
    return verifying_keys()[0].jwk


def jwks_document() -> dict | None:
    """
    Return the JSON Web Key Set of the public keys that verify our tokens, current first,
    or None when the current key is a shared secret (HS256).
    """
    if public_jwk() is None:
        return None
    return {"keys": [{**key.jwk, "use": "sig"} for key in verifying_keys() if key.jwk]}


def longest_token_lifetime() -> timedelta:
    """
    Return how long a token signed now can be accepted: the longer of the access and
    refresh lifetimes, capped by the sign-in's absolute lifetime, plus the leeway. A key
    may be retired once this long has passed since it last signed.
    """
    jwt_settings = settings.SIMPLE_JWT
    lifetime = max(jwt_settings["ACCESS_TOKEN_LIFETIME"], jwt_settings["REFRESH_TOKEN_LIFETIME"])
    cap = timedelta(seconds=settings.JWT_REFRESH_MAX_AGE_SECONDS)
    return min(lifetime, cap) + timedelta(seconds=jwt_settings["LEEWAY"])


def _unverified_kid(token: str | bytes):
    """
    Return the ``kid`` of the token's header, read without checking anything else: PyJWT's
    decode then reads the header again and verifies the whole token with the key it names.

    Not ``jwt.get_unverified_header()``: that parses the whole token, payload included
    (57 µs here, against 6 µs for the header alone; an HS256 decode is about 90 µs). A
    header this reading accepts but PyJWT refuses is refused by PyJWT.
    """
    raw = token.encode() if isinstance(token, str) else token
    segment = raw.split(b".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4)))
    except (ValueError, RecursionError) as exc:
        raise TokenBackendError("Token is invalid") from exc
    return header.get("kid") if isinstance(header, dict) else None


class KeyedTokenBackend(TokenBackend):
    """
    simplejwt's token backend with several verifying keys and stricter decoding: a size
    limit, a ``kid`` that must name one of our keys (the token is verified with that key,
    under its algorithm), ``exp``, ``iat``, ``jti``, ``iss`` and ``aud`` required, not
    merely checked when present, and ``aud`` exactly our own audience.

    simplejwt 5.5.1's ``TokenBackend`` verifies with one key (``get_verifying_key``: the
    signing key under HS*, else ``VERIFYING_KEY`` or the key a ``JWK_URL`` names); several
    keys are an open request upstream (#608). Its constructor, leeway and key preparation
    are kept; ``encode`` adds the kid and ``decode`` picks the key by it. Not a library:
    PyJWT's ``PyJWKClient`` fetches a key set over HTTP (the site would fetch its own keys
    from itself) and another JOSE package would be a second JWT implementation beside
    PyJWT, for what a dictionary lookup by kid does here.
    """

    def __init__(self, *, kid: str, keys: tuple[VerifyingKey, ...], **kwargs):
        super().__init__(**kwargs)
        self.kid = kid
        self.keys = {key.kid: key for key in keys}

    def encode(self, payload: dict) -> str:
        # A token minted for another service (RFC 8707) names its audience; any other is ours.
        claims = {"aud": self.audience, **payload, "iss": self.issuer}
        return jwt.encode(
            claims, self.prepared_signing_key, algorithm=self.algorithm, headers={"kid": self.kid}
        )

    def get_verifying_key(self, token) -> VerifyingKey:
        """Return the key the token's ``kid`` names; raise TokenBackendError if none."""
        kid = _unverified_kid(token)
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenBackendError("Token names a key we do not verify with")
        return key

    def decode(self, token, verify: bool = True) -> dict:
        if not verify:
            raise TokenBackendError("Tokens are always verified.")
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenBackendError("Token is too large")
        key = self.get_verifying_key(token)
        try:
            return jwt.decode(
                token,
                key.key,
                # The key's own algorithm, whatever the header claims: no key confusion.
                algorithms=[key.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.get_leeway(),
                # strict_aud: ``aud`` must be our audience alone, not a list that includes it
                # (a token for several services is a token any of them could replay here).
                options={"require": ["exp", "iat", "jti", "iss", "aud"], "strict_aud": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenBackendExpiredToken("Token is expired") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenBackendError("Token is invalid") from exc


@cache
def token_backend() -> KeyedTokenBackend:
    """Return the backend built from the current settings (built once, keys parsed once)."""
    jwt_settings = settings.SIMPLE_JWT
    keys = verifying_keys()
    return KeyedTokenBackend(
        kid=keys[0].kid,
        keys=keys,
        algorithm=jwt_settings["ALGORITHM"],
        signing_key=jwt_settings["SIGNING_KEY"],
        verifying_key=jwt_settings.get("VERIFYING_KEY", ""),
        audience=jwt_settings["AUDIENCE"],
        issuer=jwt_settings["ISSUER"],
        leeway=jwt_settings["LEEWAY"],
    )


def _forget_keys_on_settings_change(*, setting, **kwargs):
    if setting in KEY_SETTINGS:
        verifying_keys.cache_clear()
        token_backend.cache_clear()


setting_changed.connect(_forget_keys_on_settings_change)
