"""Configurations that could only answer 500s are refused at start, with the reason."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def _import_settings(module: str, **env_overrides) -> subprocess.CompletedProcess:
    unset = {"REDIS_URL", "SESSION_BACKEND", "LOGIN_LOCKOUT_STORE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(  # noqa: S603 - our own interpreter and fixed code.
        [sys.executable, "-c", f"import {module}"],
        cwd=ROOT,
        env={**env, **env_overrides},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cache_sessions_without_redis_are_refused_at_start_naming_redis_url(tmp_path):
    for backend in ["cache", "cached_db"]:
        result = _import_settings(
            "config.settings.local", SESSION_BACKEND=backend, LOCAL_STATE_DIR=str(tmp_path)
        )
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr
        assert "REDIS_URL" in result.stderr


def test_cache_sessions_with_redis_start():
    result = _import_settings(
        "config.settings.test", SESSION_BACKEND="cache", REDIS_URL="redis://127.0.0.1:6379/7"
    )
    assert result.returncode == 0, result.stderr


def test_an_unknown_lockout_store_is_refused_at_start():
    result = _import_settings("config.settings.test", LOGIN_LOCKOUT_STORE="redis")
    assert result.returncode != 0
    assert "LOGIN_LOCKOUT_STORE must be" in result.stderr


def test_lockout_counters_in_the_cache_without_redis_are_refused_at_start_naming_redis_url():
    result = _import_settings("config.settings.test", LOGIN_LOCKOUT_STORE="cache")
    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr


def test_a_refresh_reuse_interval_outside_0_to_60_seconds_is_refused_at_start():
    # A long interval would hand a thief the chain for that long after each rotation.
    for value in ("-1", "61"):
        result = _import_settings("config.settings.test", JWT_REFRESH_REUSE_INTERVAL_SECONDS=value)
        assert result.returncode != 0
        assert "JWT_REFRESH_REUSE_INTERVAL_SECONDS" in result.stderr
    assert (
        _import_settings("config.settings.test", JWT_REFRESH_REUSE_INTERVAL_SECONDS="0").returncode
        == 0
    )


def test_redis_url_and_sentinels_together_are_refused_at_start():
    result = _import_settings(
        "config.settings.test",
        REDIS_URL="redis://127.0.0.1:6379/7",
        REDIS_SENTINELS="127.0.0.1:26379",
    )
    assert result.returncode != 0
    assert "not both" in result.stderr


def test_a_malformed_sentinel_address_is_refused_at_start_naming_it():
    result = _import_settings("config.settings.test", REDIS_SENTINELS="127.0.0.1:26379,sentinel-2")
    assert result.returncode != 0
    assert "'sentinel-2' is not" in result.stderr


def test_with_sentinels_every_read_goes_to_the_primary_never_a_replica():
    # Given one LOCATION string, django-redis's SentinelClient sends reads to a replica,
    # where a session just deleted on the primary (a sign-out) may still be found.
    code = (
        "import django; django.setup()\n"
        "from django.core.cache import cache\n"
        "client = cache.client\n"
        "pools = {client.get_client(write=w).connection_pool for w in (True, False)}\n"
        "assert len(pools) == 1, pools\n"
        "pool = pools.pop()\n"
        "print(type(pool).__name__, pool.is_master, pool.service_name)\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and fixed code.
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "SESSION_BACKEND"}},
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "REDIS_SENTINELS": "127.0.0.1:26379,[::1]:26380",
            "REDIS_SENTINEL_SERVICE": "shop-primary",
            "SESSION_BACKEND": "cache",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["SentinelConnectionPool", "True", "shop-primary"]
