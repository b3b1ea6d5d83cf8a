"""
Fixtures shared by the whole suite.

Tests that need Redis, PostgreSQL or Chromium carry a marker (``redis``, ``postgres``,
``browser``). Without the service they skip with the reason; with ``REQUIRE_SERVICES=1``
(as in CI) an absent service fails the test instead, so CI never goes green by skipping.
"""

import os

import pytest
import redis as redis_lib
from django.core.cache import cache
from django.db import connection

from .factories import UserFactory

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
TEST_REDIS_URL = (
    os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or ("redis://127.0.0.1:6379/15")
)
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def service_unavailable(reason: str) -> None:
    """Skip the test for a missing service, or fail it when services are required (CI)."""
    pytest.fail(f"{reason} (REQUIRE_SERVICES=1)") if REQUIRE_SERVICES else pytest.skip(reason)


def redis_reachable() -> bool:
    try:
        return bool(redis_lib.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).ping())
    except redis_lib.RedisError:
        return False


def pytest_runtest_setup(item):
    if item.get_closest_marker("redis") and not redis_reachable():
        service_unavailable(f"Redis is not reachable at {TEST_REDIS_URL}")
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        service_unavailable("needs PostgreSQL: set DATABASE_URL=postgres://...")
    if item.get_closest_marker("browser") and not os.path.exists(CHROMIUM):
        service_unavailable(f"Chromium is not installed at {CHROMIUM} (apt install chromium)")


def redis_cache_settings(url: str = TEST_REDIS_URL, prefix: str = "test") -> dict:
    """Return a CACHES setting that points the default cache at a real Redis server."""
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with an empty cache, so lockout counters do not leak between tests."""
    cache.clear()


@pytest.fixture(params=["db", pytest.param("redis", marks=pytest.mark.redis)])
def session_store(request, settings):
    """Run the test once with sessions in the database and once with sessions in Redis."""
    if request.param == "redis":
        settings.CACHES = redis_cache_settings()
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
        from django.core.cache import cache as redis_cache

        redis_cache.clear()
    else:
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    return request.param


@pytest.fixture
def password():
    return "correct-horse-battery-staple"


@pytest.fixture
def user(db, password):
    return UserFactory(password=password)


@pytest.fixture
def other_user(db, password):
    return UserFactory(password=password)
