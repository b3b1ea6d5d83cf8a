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


def _session_overrides(stock: dict) -> dict:
    # Filled in by the session half of the fast path.
    return {}


def _jwt_overrides(stock: dict) -> dict:
    # The JWT half changes no other setting: api.token_checks reads AUTH_FAST_PATH on every
    # call and only then imports fastpath.jwt, whose one setting of its own,
    # JWT_VERIFIED_TOKEN_CACHE_SIZE, the stock path never reads.
    return {}
