"""Fixtures for the API tests: clients, tokens, key pairs and a cache that counts its calls."""

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.support.api import bearer, make_key_pair, obtain
from tests.support.caches import CountingRedisCache, redis_cache_settings
from tests.support.services import TEST_REDIS_URL


@pytest.fixture
def api():
    """An API client that, like a browser, would enforce CSRF if anything used sessions."""
    return APIClient(enforce_csrf_checks=True)


@pytest.fixture
def pair(api, user, password):
    """A fresh access and refresh token of ``user`` from the token endpoint."""
    response = obtain(api, user.email, password)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def authed(pair):
    """An API client that sends ``user``'s access token."""
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(**bearer(pair["access"]))
    return client


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


@pytest.fixture
def redis_cache(settings):
    """Put the cache (and so the denylist and the lockout) in the real Redis."""
    settings.CACHES = redis_cache_settings(TEST_REDIS_URL, prefix="test-api")
    settings.CACHES["default"]["BACKEND"] = "tests.support.caches.CountingRedisCache"
    from django.core.cache import cache

    cache.clear()
    CountingRedisCache.calls = []
    return CountingRedisCache.calls


@pytest.fixture
def denylist(settings, redis_cache):
    """Turn on the access-token denylist in Redis."""
    settings.JWT_ACCESS_DENYLIST = True
    return redis_cache
