"""
Fixtures shared by the whole suite, and the hooks behind its markers.

Tests that need Redis, PostgreSQL or Chromium carry a marker (``redis``, ``postgres``,
``browser``): see tests/support/services.py for what happens without the service. Helpers
that are not fixtures live in tests/support/ and are imported from there by name.
"""

import os
import shutil
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from redis.connection import AbstractConnection

from tests.support.caches import redis_cache_settings
from tests.support.factories import UserFactory
from tests.support.processes import PrivateRedis
from tests.support.services import CHROMIUM, TEST_REDIS_URL, redis_reachable, service_unavailable


def pytest_runtest_setup(item):
    if item.get_closest_marker("redis") and not redis_reachable():
        service_unavailable(f"Redis is not reachable at {TEST_REDIS_URL}")
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        service_unavailable("needs PostgreSQL: set DATABASE_URL=postgres://...")
    if item.get_closest_marker("browser") and not os.path.exists(CHROMIUM):
        service_unavailable(f"Chromium is not installed at {CHROMIUM} (apt install chromium)")


def pytest_generate_tests(metafunc):
    # Every revocation, lifetime and outage guarantee must hold with the fast path on and off,
    # and, for sessions in Redis, with the fast path's per-process copies on (client-cache).
    if metafunc.definition.get_closest_marker("both_paths"):
        paths = ["stock", "fast"]
        if "session_store" in metafunc.fixturenames:
            paths.append("client-cache")
        metafunc.parametrize("auth_path", paths, indirect=True)


def pytest_collection_modifyitems(config, items):
    # The copies are of sessions in Redis: with database sessions, client-cache is "fast".
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        duplicate = (
            params.get("auth_path") == "client-cache" and params.get("session_store") == "db"
        )
        (dropped if duplicate else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def fast_path_on(settings) -> None:
    """Apply AUTH_FAST_PATH=1's settings (fastpath/conf.py) through pytest-django's fixture."""
    from django.conf import settings as live

    from fastpath.conf import overrides

    if not live.AUTH_FAST_PATH:
        stock = {name: getattr(live, name) for name in dir(live) if name.isupper()}
        for name, value in overrides(stock).items():
            setattr(settings, name, value)


@pytest.fixture(autouse=True)
def auth_path(request):
    """
    The settings of one path: "stock" (the defaults), "fast" (AUTH_FAST_PATH=1) or
    "client-cache" (the fast path with SESSION_CLIENT_CACHE=1, for tests of sessions in
    Redis); None for tests not marked ``both_paths``.

    Autouse, so that it is set up before the test's own fixtures (which may sign browsers
    in): a name only appended to ``metafunc.fixturenames`` is parametrized but never set up.
    """
    if not hasattr(request, "param"):
        return None
    from django.conf import settings as live

    if request.param in ("fast", "client-cache"):
        settings = request.getfixturevalue("settings")
        fast_path_on(settings)
        if request.param == "client-cache":
            from fastpath.conf import CLIENT_CACHE_ENGINE

            settings.SESSION_CLIENT_CACHE = True
            settings.SESSION_ENGINES = {**settings.SESSION_ENGINES, "cache": CLIENT_CACHE_ENGINE}
    elif live.AUTH_FAST_PATH:
        pytest.fail("AUTH_FAST_PATH=1 is set: the stock runs of both_paths tests cannot be stock")
    return request.param


@pytest.fixture
def fast_path(settings):
    """Run this test with the fast path on (tests of its own pieces)."""
    fast_path_on(settings)


@pytest.fixture
def redis_commands(monkeypatch):
    """
    Record the name of every command written to a Redis socket, whichever client layer
    sent it (the real server still answers).
    """
    from fastpath.client_cache import CLIENT_NAME

    sent = []
    original = AbstractConnection.send_packed_command

    def recording(connection, command, check_health=True):
        # Not the PINGs of a client cache's tracking connection (SESSION_CLIENT_CACHE),
        # which its own thread sends every half second, whatever the test does.
        if threading.current_thread().name == CLIENT_NAME:
            return original(connection, command, check_health=check_health)
        packed = b"".join(command) if isinstance(command, list) else command
        sent.append(packed.split(b"\r\n")[2].decode().upper())
        return original(connection, command, check_health=check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", recording)
    return sent


@pytest.fixture
def redis_sessions(settings):
    """Sessions in the test Redis, through the cache engine of the path the test runs on."""
    from fastpath.conf import CACHE_ENGINE, FAST_CACHE_ENGINE

    settings.CACHES = redis_cache_settings()
    settings.SESSION_ENGINE = FAST_CACHE_ENGINE if settings.AUTH_FAST_PATH else CACHE_ENGINE


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with an empty cache, so lockout counters do not leak between tests."""
    cache.clear()


@pytest.fixture(params=["db", pytest.param("redis", marks=pytest.mark.redis)])
def session_store(request, settings):
    """Run the test once with sessions in the database and once with sessions in Redis."""
    if request.param == "redis":
        settings.CACHES = redis_cache_settings()
        settings.SESSION_ENGINE = settings.SESSION_ENGINES["cache"]
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


@pytest.fixture
def private_redis(tmp_path):
    """
    Start a redis-server of the test's own (see PrivateRedis) and stop it at teardown.

    For outage tests: the shared Redis stays untouched. Skips without redis-server, or
    fails under REQUIRE_SERVICES=1, like the ``redis`` marker.
    """
    if shutil.which("redis-server") is None:
        service_unavailable("redis-server is not installed (apt install redis-server)")
    server = PrivateRedis(directory=tmp_path)
    server.start()
    yield server
    server.stop()
