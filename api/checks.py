"""
System checks for the JWT key material and the browser refresh cookie (run by
``manage.py check`` and ``migrate``; the deploy ones by ``check --deploy``).
"""

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.conf import settings
from django.core.checks import Error, Warning, register
from rest_framework_simplejwt.exceptions import TokenBackendError

from .keys import ASYMMETRIC_ALGORITHMS, public_key_jwk, token_backend


@register("security")
def jwt_keys_check(app_configs, **kwargs) -> list[Error]:
    """Refuse keys that are missing, too short, reused from SECRET_KEY, or not a pair."""
    jwt_settings = settings.SIMPLE_JWT
    algorithm = jwt_settings["ALGORITHM"]
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        key = jwt_settings["SIGNING_KEY"] or ""
        if len(key.encode()) < 32:
            return [Error("The JWT signing key must hold at least 256 bits.", id="api.E001")]
        if key == settings.SECRET_KEY:
            return [Error("The JWT signing key must not be SECRET_KEY.", id="api.E002")]
        return _previous_keys_check()
    try:
        public_key = serialization.load_pem_public_key(
            (jwt_settings["VERIFYING_KEY"] or "").encode()
        )
        if isinstance(public_key, RSAPublicKey) and public_key.key_size < 2048:
            raise ValueError(f"the RSA key has {public_key.key_size} bits, fewer than 2048")
        backend = token_backend()
        backend.decode(backend.encode({"exp": 2**31, "iat": 0, "jti": "check"}))
    except (ValueError, TypeError, jwt.PyJWTError, TokenBackendError) as exc:
        return [
            Error(
                f"The {algorithm} key pair cannot sign and verify a token: {exc}",
                hint="Point JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE at the two halves "
                f"of one {'RSA (2048+ bits)' if algorithm == 'RS256' else 'Ed25519'} key.",
                id="api.E003",
            )
        ]
    return _previous_keys_check()


def _previous_keys_check() -> list[Error]:
    # The previous keys of a rotation verify tokens as the current key does: the same rules.
    jwt_settings = settings.SIMPLE_JWT
    current = {jwt_settings["SIGNING_KEY"], jwt_settings.get("VERIFYING_KEY") or None}
    errors = []
    for secret in settings.JWT_PREVIOUS_SIGNING_KEYS:
        if len(secret.encode()) < 32 or secret == settings.SECRET_KEY:
            errors.append(
                Error(
                    "Each previous JWT signing key must hold at least 256 bits and must not "
                    "be SECRET_KEY.",
                    id="api.E004",
                )
            )
    for key in [*settings.JWT_PREVIOUS_SIGNING_KEYS, *settings.JWT_PREVIOUS_PUBLIC_KEYS]:
        if key in current:
            errors.append(
                Error(
                    "A previous JWT key is the current key: list only keys that no longer sign.",
                    id="api.E005",
                )
            )
    for pem in settings.JWT_PREVIOUS_PUBLIC_KEYS:
        try:
            public_key = serialization.load_pem_public_key(pem.encode())
            if isinstance(public_key, RSAPublicKey) and public_key.key_size < 2048:
                raise ValueError(f"the RSA key has {public_key.key_size} bits, fewer than 2048")
            public_key_jwk(pem)
        except (ValueError, TypeError) as exc:
            errors.append(
                Error(
                    f"A previous JWT public key cannot verify tokens: {exc}",
                    hint="JWT_PREVIOUS_PUBLIC_KEY_FILES lists PEM public keys, RSA (2048+ "
                    "bits) or Ed25519.",
                    id="api.E006",
                )
            )
    return errors


@register("security")
def browser_refresh_cookie_check(app_configs, **kwargs) -> list[Error]:
    """Refuse a __Secure- cookie name without Secure: browsers would drop the cookie."""
    name = settings.BROWSER_REFRESH_COOKIE_NAME
    if name.startswith("__Secure-") and not settings.BROWSER_REFRESH_COOKIE_SECURE:
        return [
            Error(
                f"The browser refresh cookie {name!r} needs BROWSER_REFRESH_COOKIE_SECURE = "
                "True: browsers drop a __Secure- cookie that is not Secure.",
                id="api.E007",
            )
        ]
    return []


@register("security", deploy=True)
def browser_refresh_cookie_secure_check(app_configs, **kwargs) -> list[Warning]:
    """Warn, as Django does for the session cookie, when the refresh cookie is not Secure."""
    if settings.BROWSER_REFRESH_COOKIE_SECURE:
        return []
    return [
        Warning(
            "BROWSER_REFRESH_COOKIE_SECURE is False: the browser refresh token could be "
            "sent over plain HTTP.",
            id="api.W001",
        )
    ]
