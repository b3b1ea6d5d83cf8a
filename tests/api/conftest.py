"""Fixtures for the API tests: clients, tokens, key pairs and a cache that counts its calls."""

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.urls import reverse
from django_redis.cache import RedisCache
from rest_framework.test import APIClient

from tests.conftest import TEST_REDIS_URL, redis_cache_settings


@pytest.fixture
def api():
    """An API client that, like a browser, would enforce CSRF if anything used sessions."""
    return APIClient(enforce_csrf_checks=True)


def obtain(client, email, password, **extra):
    return client.post(
        reverse("api:token_obtain"), {"email": email, "password": password}, format="json", **extra
    )


@pytest.fixture
def pair(api, user, password):
    """A fresh access and refresh token of ``user`` from the token endpoint."""
    response = obtain(api, user.email, password)
    assert response.status_code == 200, response.content
    return response.json()


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def authed(pair):
    """An API client that sends ``user``'s access token."""
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(**bearer(pair["access"]))
    return client


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


@pytest.fixture(params=["RS256", "EdDSA"])
def key_pair(request, settings, tmp_path):
    """Switch the site to an asymmetric algorithm with a throwaway key pair."""
    private_path, public_path = make_key_pair(request.param, tmp_path)
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "ALGORITHM": request.param,
        "SIGNING_KEY": Path(private_path).read_text(),
        "VERIFYING_KEY": Path(public_path).read_text(),
    }
    return request.param, private_path, public_path


class CountingRedisCache(RedisCache):
    """The real django-redis cache, counting the calls that reach Redis."""

    calls: list[str] = []

    def get(self, *args, **kwargs):
        self.calls.append("get")
        return super().get(*args, **kwargs)

    def get_many(self, *args, **kwargs):
        self.calls.append("get_many")
        return super().get_many(*args, **kwargs)

    def set(self, *args, **kwargs):
        self.calls.append("set")
        return super().set(*args, **kwargs)


@pytest.fixture
def redis_cache(settings):
    """Put the cache (and so the denylist and the lockout) in the real Redis."""
    settings.CACHES = redis_cache_settings(TEST_REDIS_URL, prefix="test-api")
    settings.CACHES["default"]["BACKEND"] = "tests.api.conftest.CountingRedisCache"
    from django.core.cache import cache

    cache.clear()
    CountingRedisCache.calls = []
    return CountingRedisCache.calls


@pytest.fixture
def denylist(settings, redis_cache):
    """Turn on the access-token denylist in Redis."""
    settings.JWT_ACCESS_DENYLIST = True
    return redis_cache
