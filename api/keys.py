"""
The keys that sign and verify the API's tokens: simplejwt's token backend with a ``kid``
(RFC 7638 thumbprint) and stricter decoding, and the JWKS document that publishes the
public key under RS256 and EdDSA.

Built from ``settings.SIMPLE_JWT`` on first use and built again when that setting changes,
never at import time.
"""

import base64
import hashlib
import json
from functools import cache

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


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@cache
def public_jwk() -> dict | None:
    """
    Return the public key as a JWK with its ``kid`` (RFC 7638 thumbprint), or None when
    tokens are signed with a shared secret (HS256).
    """
    jwt_settings = settings.SIMPLE_JWT
    algorithm = jwt_settings["ALGORITHM"]
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        return None
    key = serialization.load_pem_public_key(jwt_settings["VERIFYING_KEY"].encode())
    if isinstance(key, RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
        members = {name: jwk[name] for name in ("e", "kty", "n")}
    elif isinstance(key, Ed25519PublicKey):
        jwk = OKPAlgorithm.to_jwk(key, as_dict=True)
        members = {name: jwk[name] for name in ("crv", "kty", "x")}
    else:
        raise TypeError(f"{type(key).__name__} keys are not supported for {algorithm}.")
    # RFC 7638: the required members only, sorted, no whitespace, hashed with SHA-256.
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return {**members, "kid": _b64url(hashlib.sha256(canonical).digest()), "alg": algorithm}


def jwks_document() -> dict | None:
    """Return the JSON Web Key Set that verifies our tokens, or None under HS256."""
    jwk = public_jwk()
    if jwk is None:
        return None
    return {"keys": [{**jwk, "use": "sig"}]}


class KeyedTokenBackend(TokenBackend):
    """
    simplejwt's token backend with stricter decoding: a size limit, a ``kid`` that must name
    our key (and none under HS256), ``exp``, ``iat``, ``jti``, ``iss`` and ``aud`` required,
    not merely checked when present, and ``aud`` exactly our own audience.
    """

    def __init__(self, *, kid: str | None, **kwargs):
        super().__init__(**kwargs)
        self.kid = kid

    def encode(self, payload: dict) -> str:
        # A token minted for another service (RFC 8707) names its audience; any other is ours.
        claims = {"aud": self.audience, **payload, "iss": self.issuer}
        return jwt.encode(
            claims,
            self.prepared_signing_key,
            algorithm=self.algorithm,
            headers={"kid": self.kid} if self.kid else None,
        )

    def decode(self, token, verify: bool = True) -> dict:
        if not verify:
            raise TokenBackendError("Tokens are always verified.")
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenBackendError("Token is too large")
        try:
            # The header and the claims from one parse: the kid is checked below.
            decoded = jwt.decode_complete(
                token,
                self.prepared_verifying_key
                if self.algorithm in ASYMMETRIC_ALGORITHMS
                else self.prepared_signing_key,
                algorithms=[self.algorithm],
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
        if decoded["header"].get("kid") != self.kid:
            raise TokenBackendError("Token names a key we do not sign with")
        return decoded["payload"]


@cache
def token_backend() -> KeyedTokenBackend:
    """Return the backend built from the current settings (built once, keys parsed once)."""
    jwt_settings = settings.SIMPLE_JWT
    jwk = public_jwk()
    return KeyedTokenBackend(
        kid=jwk["kid"] if jwk else None,
        algorithm=jwt_settings["ALGORITHM"],
        signing_key=jwt_settings["SIGNING_KEY"],
        verifying_key=jwt_settings.get("VERIFYING_KEY", ""),
        audience=jwt_settings["AUDIENCE"],
        issuer=jwt_settings["ISSUER"],
        leeway=jwt_settings["LEEWAY"],
    )


def _forget_keys_on_settings_change(*, setting, **kwargs):
    if setting == "SIMPLE_JWT":
        public_jwk.cache_clear()
        token_backend.cache_clear()


setting_changed.connect(_forget_keys_on_settings_change)
