"""
Fixtures shared by the whole suite.

Tests that need Redis, PostgreSQL or Chromium carry a marker (``redis``, ``postgres``,
``browser``). Without the service they skip with the reason; with ``REQUIRE_SERVICES=1``
(as in CI) an absent service fails the test instead, so CI never goes green by skipping.
"""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis as redis_lib
from django.core.cache import cache
from django.db import connection
from redis.connection import AbstractConnection

from .factories import UserFactory

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


def pytest_generate_tests(metafunc):
    # Every revocation, lifetime and outage guarantee must hold with the fast path on and off.
    if metafunc.definition.get_closest_marker("both_paths"):
        if "auth_path" not in metafunc.fixturenames:
            metafunc.fixturenames.append("auth_path")
        metafunc.parametrize("auth_path", ["stock", "fast"], indirect=True)


def fast_path_on(settings) -> None:
    """Apply AUTH_FAST_PATH=1's settings (fastpath/conf.py) through pytest-django's fixture."""
    from django.conf import settings as live

    from fastpath.conf import overrides

    if not live.AUTH_FAST_PATH:
        stock = {name: getattr(live, name) for name in dir(live) if name.isupper()}
        for name, value in overrides(stock).items():
            setattr(settings, name, value)


@pytest.fixture
def auth_path(request, settings):
    """The settings of one path: "stock" (the defaults) or "fast" (AUTH_FAST_PATH=1)."""
    from django.conf import settings as live

    if request.param == "fast":
        fast_path_on(settings)
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
    sent = []
    original = AbstractConnection.send_packed_command

    def recording(connection, command, check_health=True):
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


class PrivateRedis:
    """
    A redis-server of the test's own on a free loopback port, without persistence.

    ``stop()`` shuts it down (clients then get "connection refused") and ``start()`` brings
    it back on the same port and URL, empty, as after a crash of a server that saves nothing.
    Being nobody else's server, its db 0 is free to use.
    """

    def __init__(self, *, directory: Path, port: int):
        self.directory = directory
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, *, timeout: float = 10) -> None:
        """Start the server (again) and return once it answers PING."""
        if self.running:
            return
        command = [
            shutil.which("redis-server"),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
        ]  # fmt: skip
        with (self.directory / "redis.log").open("a") as log:
            self._process = subprocess.Popen(  # noqa: S603 - fixed arguments.
                command, stdout=log, stderr=subprocess.STDOUT
            )
        client = redis_lib.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                if client.ping():
                    return
            except redis_lib.ConnectionError:
                time.sleep(0.05)
        self.stop()
        log_tail = (self.directory / "redis.log").read_text()[-2000:]
        pytest.fail(f"redis-server did not start on port {self.port}:\n{log_tail}")

    def stop(self, *, timeout: float = 10) -> None:
        """Stop the server and wait until it has exited (and closed its port)."""
        if not self.running:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=timeout)


def free_port() -> int:
    """Return a loopback port that was free a moment ago (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path):
    """
    Start a redis-server of the test's own (see PrivateRedis) and stop it at teardown.

    For outage tests: the shared Redis stays untouched. Skips without redis-server, or
    fails under REQUIRE_SERVICES=1, like the ``redis`` marker.
    """
    if shutil.which("redis-server") is None:
        service_unavailable("redis-server is not installed (apt install redis-server)")
    server = PrivateRedis(directory=tmp_path, port=free_port())
    server.start()
    yield server
    server.stop()
