"""
The services some tests need (Redis, PostgreSQL, Chromium): where they are, and what a
test does without one.

Tests that need a service carry a marker (``redis``, ``postgres``, ``browser``;
tests/conftest.py checks them). Without the service they skip with the reason; with
``REQUIRE_SERVICES=1`` (as in CI) an absent service fails the test instead, so CI never
goes green by skipping.
"""

import os

import pytest
import redis as redis_lib

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
TEST_REDIS_URL = (
    os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or ("redis://127.0.0.1:6379/15")
)
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Debian's chromium as root, headless, with nothing that reaches out to the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def service_unavailable(reason: str) -> None:
    """Skip the test for a missing service, or fail it when services are required (CI)."""
    pytest.fail(f"{reason} (REQUIRE_SERVICES=1)") if REQUIRE_SERVICES else pytest.skip(reason)


def redis_reachable() -> bool:
    """Whether the suite's Redis (TEST_REDIS_URL) answers PING within a second."""
    try:
        return bool(redis_lib.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).ping())
    except redis_lib.RedisError:
        return False
