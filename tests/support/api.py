"""
Helpers for API tests: obtain a token pair, send a bearer token, read a token without
verifying it, forge one by hand, and make throwaway key pairs.
"""

import base64
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.urls import reverse


def obtain(client, email, password, **extra):
    """Post the credentials to the token endpoint; return the response."""
    return client.post(
        reverse("api:token_obtain"), {"email": email, "password": password}, format="json", **extra
    )


def bearer(token: str) -> dict:
    """The request headers (as test-client keyword arguments) that send ``token``."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, payload: dict, signature: bytes = b"") -> str:
    """Build a JWT by hand, for the tokens PyJWT refuses to make (alg none, empty key...)."""
    return ".".join(
        [
            b64url(json.dumps(header).encode()),
            b64url(json.dumps(payload).encode()),
            b64url(signature),
        ]
    )


def claims_of(token: str) -> dict:
    """Return a token's claims without verifying it (for assertions only)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def header_of(token: str) -> dict:
    """Return a token's header without verifying it (for assertions only)."""
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))


def make_key_pair(algorithm: str, directory) -> tuple[str, str]:
    """Write a throwaway key pair for RS256 or EdDSA into ``directory``; return the paths."""
    if algorithm == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    private_path = directory / f"{algorithm}-private.pem"
    public_path = directory / f"{algorithm}-public.pem"
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return str(private_path), str(public_path)
