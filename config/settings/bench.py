"""
Settings for ``make bench`` only: production's settings, relaxed for plain HTTP on loopback.

BENCH-ONLY — never deploy with these. The benchmark serves the site with gunicorn on
127.0.0.1 over plain HTTP and must measure what production runs, so this module imports
``production`` and changes only what a loopback HTTP run cannot do without:

- throwaway ``SECRET_KEY`` / ``JWT_SIGNING_KEY`` generated per run when the environment
  has none (``os.environ``, so the servers the run starts inherit the same keys; never
  written to disk), and ``ALLOWED_HOSTS`` defaulting to loopback;
- no SSL redirect, and session, CSRF and browser refresh cookies without the ``__Host-``
  or ``__Secure-`` prefix and the Secure flag (both require HTTPS);
- plain static files storage: the manifest storage needs ``collectstatic``, and no
  measured endpoint serves a static file;
- a database of its own (``var/bench.sqlite3``) unless ``DATABASE_URL`` is set, so a run
  never writes into the development database, and the cache key prefix ``bench`` (always),
  so the keys a run leaves in Redis can be found and deleted without touching others;
- the ``bench`` app (the ``bench`` management command) is installed here and nowhere
  else, so the real site never loads benchmark code.
"""

import os
import secrets
from pathlib import Path

_BASE_DIR = Path(__file__).resolve().parent.parent.parent

# These must be in the environment before production.py reads (and insists on) them.
for _name in ("SECRET_KEY", "JWT_SIGNING_KEY"):
    os.environ.setdefault(_name, secrets.token_urlsafe(64))
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_BASE_DIR / 'var' / 'bench.sqlite3'}")
os.environ["CACHE_KEY_PREFIX"] = BENCH_CACHE_KEY_PREFIX = "bench"
(_BASE_DIR / "var").mkdir(exist_ok=True)

from .production import *  # noqa: E402, F403
from .production import INSTALLED_APPS  # noqa: E402

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_SECURE = False
CSRF_COOKIE_NAME = "csrftoken"
BROWSER_REFRESH_COOKIE_SECURE = False
BROWSER_REFRESH_COOKIE_NAME = "browser_refresh"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# An empty directory of its own, so WhiteNoise does not warn about a missing STATIC_ROOT.
STATIC_ROOT = _BASE_DIR / "var" / "bench-static"
STATIC_ROOT.mkdir(exist_ok=True)
