"""Fixtures for the comparison page: a signed-in browser, Redis and key-pair variants, results."""

import json
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from tests.support.api import make_key_pair
from tests.support.caches import redis_cache_settings
from tests.support.storefront import sign_in


@pytest.fixture
def database_sessions(settings):
    """
    Sessions in the database whatever the environment chose. A test client builds its
    middleware on its first request, so ask for this before ``browser``.
    """
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"


@pytest.fixture
def browser(user, password):
    """A browser signed in to the storefront as ``user`` (by session)."""
    client = Client()
    response = sign_in(client, user, password)
    assert response.status_code == 302
    return client


@pytest.fixture
def redis_everything(settings):
    """Sessions, cache and (where enabled) the access denylist in the real Redis."""
    settings.CACHES = redis_cache_settings(prefix="test-compare")
    settings.SESSION_ENGINE = settings.SESSION_ENGINES["cache"]
    cache.clear()
    return settings.CACHES["default"]["KEY_PREFIX"]


@pytest.fixture
def denylist_on(settings, redis_everything):
    settings.JWT_ACCESS_DENYLIST = True


@pytest.fixture(params=["RS256", "EdDSA"])
def asymmetric_keys(request, settings, tmp_path):
    """Sign tokens with a throwaway key pair (RS256 or EdDSA)."""
    private_path, public_path = make_key_pair(request.param, tmp_path)
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "ALGORITHM": request.param,
        "SIGNING_KEY": Path(private_path).read_text(),
        "VERIFYING_KEY": Path(public_path).read_text(),
    }
    return request.param


@pytest.fixture
def results_file(tmp_path, settings):
    """Point the page at a results file of the test's own; return a function that writes it."""
    path = tmp_path / "latest.json"
    settings.COMPARE_BENCH_RESULTS = path

    def write(data: dict) -> Path:
        path.write_text(json.dumps(data))
        return path

    return write
