"""
Where the attempt counters live, the deploy check that refuses a per-process store, and the
``lockout_clear`` command.
"""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import RequestFactory

from accounts import checks, lockout
from accounts.services import LoginLocked, credentials_authenticate

pytestmark = pytest.mark.django_db

LOCAL_MEMORY = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def _lock(user, *, ip="203.0.113.9", times=3):
    for n in range(times):
        with pytest.raises(Exception):  # noqa: B017, PT011 - wrong password or locked alike.
            credentials_authenticate(
                request=RequestFactory().post("/", REMOTE_ADDR=ip),
                email=user.email,
                password=f"x{n}",
            )


def _sign_in(user, password, *, ip="192.0.2.10"):
    return credentials_authenticate(
        request=RequestFactory().post("/", REMOTE_ADDR=ip), email=user.email, password=password
    )


def test_counters_on_the_embedded_default_are_not_in_the_per_process_cache(
    user, password, settings
):
    settings.LOGIN_FAILURE_LIMIT = 3
    # The embedded default: no REDIS_URL, so a local-memory cache and the database store
    # (that this is the default is what the production deploy-check tests show).
    settings.CACHES = LOCAL_MEMORY
    settings.LOGIN_LOCKOUT_STORE = "database"
    _lock(user)
    from django.core.cache import cache

    cache.clear()  # What another worker process sees: an empty local-memory cache.
    with pytest.raises(LoginLocked):
        _sign_in(user, password)


def test_deploy_check_refuses_counters_in_a_local_memory_cache(settings):
    settings.CACHES = LOCAL_MEMORY
    settings.LOGIN_LOCKOUT_STORE = "cache"
    errors = checks.lockout_store_check(None)
    assert [error.id for error in errors] == ["accounts.E001"]
    with pytest.raises(SystemCheckError, match="accounts.E001"):
        call_command("check", deploy=True, tags=["security"])


MEMORY_SQLITE = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
FILE_SQLITE = {"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/shop/db.sqlite3"}
POSTGRES = {"ENGINE": "django.db.backends.postgresql", "NAME": "shop"}
REDIS = "django_redis.cache.RedisCache"
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize(
    ("store", "database", "cache_backend"),
    [
        ("database", MEMORY_SQLITE, REDIS),
        ("cache", POSTGRES, LOCMEM),
        ("redis", POSTGRES, REDIS),
        # Shared, but their incr() reads and then writes: a burst reads the same count.
        ("cache", POSTGRES, "django.core.cache.backends.filebased.FileBasedCache"),
        ("cache", POSTGRES, "django.core.cache.backends.db.DatabaseCache"),
    ],
)
def test_a_per_process_or_unknown_store_is_a_problem(store, database, cache_backend):
    assert lockout.store_problem(store=store, database=database, cache_backend=cache_backend)


@pytest.mark.parametrize(
    ("store", "database", "cache_backend"),
    [
        ("database", FILE_SQLITE, LOCMEM),
        ("database", POSTGRES, LOCMEM),
        ("cache", FILE_SQLITE, REDIS),
    ],
)
def test_the_database_and_redis_stores_are_shared(store, database, cache_backend):
    assert not lockout.store_problem(store=store, database=database, cache_backend=cache_backend)


def test_lockout_clear_unlocks_one_account(user, password, other_user, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    _lock(user, ip="203.0.113.1")
    _lock(other_user, ip="203.0.113.2")
    call_command("lockout_clear", email=user.email.upper())
    assert _sign_in(user, password)
    with pytest.raises(LoginLocked):
        _sign_in(other_user, password)


def test_lockout_clear_unlocks_one_address(user, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):
        with pytest.raises(Exception):  # noqa: B017, PT011
            credentials_authenticate(
                request=RequestFactory().post("/", REMOTE_ADDR="203.0.113.5"),
                email=f"guess{n}@example.com",
                password="x",
            )
    with pytest.raises(LoginLocked):
        _sign_in(user, password, ip="203.0.113.5")
    call_command("lockout_clear", ip="203.0.113.5")
    assert _sign_in(user, password, ip="203.0.113.5")


def test_lockout_clear_without_arguments_unlocks_everyone(user, password, other_user, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    _lock(user, ip="203.0.113.1")
    _lock(other_user, ip="203.0.113.2")
    call_command("lockout_clear")
    assert _sign_in(user, password)
    assert _sign_in(other_user, password)
