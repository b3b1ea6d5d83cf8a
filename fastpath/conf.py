"""
What ``AUTH_FAST_PATH=1`` changes, as settings (pure data: imported by the settings module,
so it must not import Django models or apps).

``config/settings/base.py`` applies ``overrides()`` to itself when the switch is on; the
test suite applies the same dictionary with ``override_settings`` to run every revocation,
lifetime and outage test both ways in one run (``tests/conftest.py``, marker ``both_paths``).
"""

STOCK_SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
STOCK_AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


def overrides(stock: dict) -> dict:
    """Return the settings the fast path changes, given the stock ones (a settings dict)."""
    changed = {"AUTH_FAST_PATH": True}
    changed.update(_session_overrides(stock))
    changed.update(_jwt_overrides(stock))
    return changed


# The session's GET sent early under WSGI; under ASGI, no hop of its own (fastpath/asgi.py).
FAST_SESSION_MIDDLEWARE = "fastpath.asgi.InLoopSessionMiddleware"
# The snapshot user (fastpath.sessions.SnapshotAuthenticationMiddleware), its hooks run in
# the event loop under ASGI (fastpath/asgi.py).
FAST_AUTH_MIDDLEWARE = "fastpath.asgi.InLoopAuthenticationMiddleware"
# Django's middleware whose hooks do no I/O, run in the event loop under ASGI rather than
# in a thread each (fastpath/asgi.py); under WSGI they are Django's own.
IN_LOOP_MIDDLEWARE = {
    "django.middleware.security.SecurityMiddleware": "fastpath.asgi.InLoopSecurityMiddleware",
    "django.middleware.common.CommonMiddleware": "fastpath.asgi.InLoopCommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware": "fastpath.asgi.InLoopCsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware": (
        "fastpath.asgi.InLoopMessageMiddleware"
    ),
    "django.middleware.clickjacking.XFrameOptionsMiddleware": (
        "fastpath.asgi.InLoopXFrameOptionsMiddleware"
    ),
}
CACHE_ENGINE = "accounts.session_store"
FAST_CACHE_ENGINE = "fastpath.session_store"
# SESSION_CLIENT_CACHE=1: the fast store with per-process copies (fastpath/client_cache.py).
CLIENT_CACHE_ENGINE = "fastpath.client_cache"


def _session_overrides(stock: dict) -> dict:
    # The user from a snapshot in the session, and the session's GET sent early
    # (fastpath/sessions.py, fastpath/session_store.py).
    swaps = {
        STOCK_SESSION_MIDDLEWARE: FAST_SESSION_MIDDLEWARE,
        STOCK_AUTH_MIDDLEWARE: FAST_AUTH_MIDDLEWARE,
        **IN_LOOP_MIDDLEWARE,
    }
    changed = {"MIDDLEWARE": [swaps.get(name, name) for name in stock["MIDDLEWARE"]]}
    engines = stock.get("SESSION_ENGINES")
    if engines:
        changed["SESSION_ENGINES"] = {
            name: FAST_CACHE_ENGINE if engine == CACHE_ENGINE else engine
            for name, engine in engines.items()
        }
    if stock["SESSION_ENGINE"] == CACHE_ENGINE:
        client_cache = stock.get("SESSION_CLIENT_CACHE")
        changed["SESSION_ENGINE"] = CLIENT_CACHE_ENGINE if client_cache else FAST_CACHE_ENGINE
    return changed


def _jwt_overrides(stock: dict) -> dict:
    # The JWT half changes no other setting: api.token_checks reads AUTH_FAST_PATH on every
    # call and only then imports fastpath.jwt, whose one setting of its own,
    # JWT_VERIFIED_TOKEN_CACHE_SIZE, the stock path never reads.
    return {}
