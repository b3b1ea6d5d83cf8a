"""System checks for the JWT key material (run by ``manage.py check`` and ``migrate``)."""

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.conf import settings
from django.core.checks import Error, register
from rest_framework_simplejwt.exceptions import TokenBackendError

from .keys import ASYMMETRIC_ALGORITHMS, token_backend


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
        return []
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
    return []
