"""
The switch: with AUTH_FAST_PATH off (the default) the site runs Django's own pieces and never
imports fastpath; with it on, the stock middleware and the cache engine are swapped.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from fastpath.conf import (
    FAST_AUTH_MIDDLEWARE,
    FAST_CACHE_ENGINE,
    FAST_SESSION_MIDDLEWARE,
    IN_LOOP_MIDDLEWARE,
    STOCK_AUTH_MIDDLEWARE,
    STOCK_SESSION_MIDDLEWARE,
    overrides,
)

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.test import Client
Client().get("/")
Client().get("/accounts/me/")
print(json.dumps({
    "middleware": settings.MIDDLEWARE,
    "engine": settings.SESSION_ENGINE,
    "fastpath": sorted(m for m in sys.modules if m.split(".")[0] == "fastpath"),
}))
"""


def _probe(**env) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("AUTH_FAST_PATH", "REDIS_URL", "SESSION_BACKEND", "DATABASE_URL")
    }
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.test", **env)
    out = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_by_default_the_site_runs_django_s_middleware_and_never_imports_fastpath():
    stock = _probe()
    assert STOCK_SESSION_MIDDLEWARE in stock["middleware"]
    assert STOCK_AUTH_MIDDLEWARE in stock["middleware"]
    assert not any(name.startswith("fastpath.") for name in stock["middleware"])
    assert stock["engine"] == "django.contrib.sessions.backends.db"
    assert stock["fastpath"] == []


def test_auth_fast_path_swaps_the_stock_middlewares_in_place():
    fast = _probe(AUTH_FAST_PATH="1")
    stock = _probe()
    swaps = {
        STOCK_SESSION_MIDDLEWARE: FAST_SESSION_MIDDLEWARE,
        STOCK_AUTH_MIDDLEWARE: FAST_AUTH_MIDDLEWARE,
        **IN_LOOP_MIDDLEWARE,
    }
    assert fast["middleware"] == [swaps.get(name, name) for name in stock["middleware"]]
    assert "fastpath.sessions" in fast["fastpath"]


def test_the_cache_engine_is_swapped_only_where_the_cache_engine_was_chosen():
    stock = {
        "MIDDLEWARE": [STOCK_SESSION_MIDDLEWARE, STOCK_AUTH_MIDDLEWARE],
        "SESSION_ENGINES": {
            "db": "django.contrib.sessions.backends.db",
            "cache": "accounts.session_store",
        },
    }
    on_db = overrides({**stock, "SESSION_ENGINE": "django.contrib.sessions.backends.db"})
    on_cache = overrides({**stock, "SESSION_ENGINE": "accounts.session_store"})
    assert "SESSION_ENGINE" not in on_db
    assert on_cache["SESSION_ENGINE"] == FAST_CACHE_ENGINE
    assert on_db["SESSION_ENGINES"]["cache"] == FAST_CACHE_ENGINE
    assert on_db["AUTH_FAST_PATH"] is True
