"""
SESSION_CLIENT_CACHE=1 (fastpath/client_cache.py): sessions served from the process's copies,
dropped when Redis's tracking connection says they changed, and never trusted without it.

"Another process" here is another Redis client writing the session's key, as another
worker's sign-out or a revocation does: this process hears of it only through Redis.
tests/test_client_cache_workers.py does the same across real worker processes.
"""

import os
import time

import pytest
import redis
from django.conf import settings as live_settings
from django.test import Client
from django.urls import reverse

from fastpath import client_cache
from fastpath.conf import CLIENT_CACHE_ENGINE
from tests.conftest import fast_path_on
from tests.support.caches import redis_cache_settings
from tests.support.services import TEST_REDIS_URL
from tests.support.storefront import me, session_key, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

# How long a change may take to reach this process before the test calls it lost. The lag
# itself is measured by `make bench`, not here.
EVENTUALLY_S = 2.0


def _stop_copies() -> None:
    if client_cache._copies is not None:
        client_cache._copies.stop()
        client_cache._copies = None


@pytest.fixture(autouse=True)
def _fresh_copies():
    """Each test starts the process's copies (and their tracking connection) anew."""
    _stop_copies()
    yield
    _stop_copies()


@pytest.fixture
def client_cache_on(settings, private_redis):
    # A Redis of the test's own: tracking ignores database numbers, so another suite's
    # FLUSHDB on a shared server would drop this process's copies mid-test.
    fast_path_on(settings)
    settings.SESSION_CLIENT_CACHE = True
    settings.CACHES = redis_cache_settings(private_redis.url)
    settings.SESSION_ENGINE = CLIENT_CACHE_ENGINE


@pytest.fixture
def other_process(private_redis):
    """A Redis client of its own, as another worker is."""
    client = redis.Redis.from_url(private_redis.url)
    yield client
    client.close()


def _redis_key(key: str) -> bytes:
    from django.core.cache import cache

    store = client_cache.SessionStore(key)
    return str(cache.client.make_key(store.cache_key)).encode()


def _copies() -> client_cache.SessionCopies:
    assert client_cache._copies is not None, "no session was read through the client cache"
    return client_cache._copies


def _signed_in(response) -> bool:
    return response.status_code == 200


def _refused_within(browser, seconds: float) -> int:
    """Request the private page until it is refused; return how many requests were served."""
    served = 0
    deadline = time.monotonic() + seconds
    while _signed_in(me(browser)):
        served += 1
        assert time.monotonic() < deadline, f"still signed in after {served} requests"
    return served


@pytest.fixture
def browser(client_cache_on, user, password):
    browser = Client()
    sign_in(browser, user, password)
    assert _signed_in(me(browser))  # the first read after sign-in asks Redis
    return browser


def test_a_session_this_process_has_read_is_served_without_asking_redis(browser, redis_commands):
    redis_commands.clear()
    for _ in range(3):
        assert _signed_in(me(browser))
    assert "GET" not in redis_commands
    assert _copies().hits >= 3


def test_a_session_deleted_by_another_process_is_refused_without_a_restart(browser, other_process):
    assert _signed_in(me(browser))
    other_process.delete(_redis_key(session_key(browser)))
    _refused_within(browser, EVENTUALLY_S)
    # And it stays refused: no copy comes back.
    for _ in range(3):
        assert not _signed_in(me(browser))


def test_a_session_changed_by_another_process_is_read_again(browser, other_process, user):
    # A session another worker rewrote (here: emptied of its user) is not served from the copy.
    from django.core.cache import cache

    key = _redis_key(session_key(browser))
    raw = other_process.get(key)
    data = cache.client.decode(raw)
    data.pop("_auth_user_id")
    other_process.set(key, cache.client.encode(data), keepttl=True)
    _refused_within(browser, EVENTUALLY_S)


def test_a_flushed_redis_leaves_no_copy(browser, other_process):
    other_process.flushdb()
    _refused_within(browser, EVENTUALLY_S)


def test_a_sign_out_in_this_process_is_refused_on_the_very_next_request(browser):
    stolen = Client()
    stolen.cookies[live_settings.SESSION_COOKIE_NAME] = session_key(browser)
    assert _signed_in(me(stolen))
    browser.post(reverse("accounts:logout"))
    # This process deleted the session: it drops its copy at once, without waiting for Redis.
    assert not _signed_in(me(stolen))


def _tracking_connection_id(other_process) -> int:
    name = f"{client_cache.CLIENT_NAME}-{os.getpid()}"
    ids = [c["id"] for c in other_process.client_list() if c["name"] == name]
    assert ids, f"no connection named {name}"
    return int(ids[0])


def test_while_the_tracking_connection_is_lost_no_copy_is_served(browser, other_process):
    key = _redis_key(session_key(browser))
    assert _signed_in(me(browser))
    other_process.client_kill_filter(_id=_tracking_connection_id(other_process))
    # Deleted while nobody listens: this invalidation never reaches the process.
    other_process.delete(key)
    assert not _signed_in(me(browser))


def test_after_the_tracking_connection_is_back_copies_are_kept_again(browser, other_process):
    copies = _copies()
    connects = copies.connects
    other_process.client_kill_filter(_id=_tracking_connection_id(other_process))
    deadline = time.monotonic() + EVENTUALLY_S
    while copies.connects == connects:
        assert _signed_in(me(browser))  # served by Redis meanwhile
        assert time.monotonic() < deadline, "the tracking connection did not come back"
        time.sleep(0.02)
    assert _signed_in(me(browser))
    hits = copies.hits
    assert _signed_in(me(browser))
    assert copies.hits == hits + 1


def test_an_answer_that_raced_a_change_is_used_once_and_not_kept(
    client_cache_on, user, password, other_process
):
    browser = Client()
    sign_in(browser, user, password)
    key = session_key(browser)
    copies = client_cache.SessionStore(key)._session_copies()
    # The GET leaves (prefetch) before another process deletes the session; its answer,
    # the session as it was, is read only after the deletion's invalidation arrived.
    racing = client_cache.SessionStore(key)
    racing.prefetch()
    invalidations = copies.invalidations
    other_process.delete(_redis_key(key))
    deadline = time.monotonic() + EVENTUALLY_S
    while copies.invalidations == invalidations:
        copies.get(b"nothing")  # reads what is waiting on the tracking connection
        assert time.monotonic() < deadline, "the deletion's invalidation never arrived"
    racing.load()
    # Whatever that answer was, it is not kept: the next request finds the session gone.
    assert not _signed_in(me(browser))


def test_copies_are_bounded_by_the_setting(client_cache_on, settings, user, password):
    settings.SESSION_CLIENT_CACHE_SIZE = 2
    _stop_copies()  # start copies with the new size
    browsers = [Client() for _ in range(4)]
    for browser in browsers:
        sign_in(browser, user, password)
        assert _signed_in(me(browser))
    assert len(_copies()._copies) == 2
    for browser in browsers:  # the evicted ones are read from Redis again
        assert _signed_in(me(browser))


def test_the_setting_needs_the_fast_path_and_sessions_in_redis():
    from tests.config.test_misconfiguration import _import_settings

    for env in (
        {"SESSION_CLIENT_CACHE": "1", "SESSION_BACKEND": "cache", "REDIS_URL": TEST_REDIS_URL},
        {"SESSION_CLIENT_CACHE": "1", "AUTH_FAST_PATH": "1"},
    ):
        result = _import_settings("config.settings.test", **env)
        assert result.returncode != 0
        assert "SESSION_CLIENT_CACHE=1 needs AUTH_FAST_PATH=1" in result.stderr
    started = _import_settings(
        "config.settings.test",
        SESSION_CLIENT_CACHE="1",
        AUTH_FAST_PATH="1",
        SESSION_BACKEND="cache",
        REDIS_URL=TEST_REDIS_URL,
    )
    assert started.returncode == 0, started.stderr
    assert not live_settings.SESSION_CLIENT_CACHE  # off by default
