"""
Settings for ``make cluster`` only: production's settings, relaxed for plain HTTP on loopback.

CLUSTER-DEMO-ONLY: never deploy with these. ``scripts/cluster.py`` serves two instances of
the site with gunicorn on 127.0.0.1 over plain HTTP. This module imports ``production``,
which insists on every secret, host and key coming from the environment (the script
generates throwaway ones for each run and gives both instances the same), and changes
only what plain HTTP cannot do:

- no redirect to HTTPS;
- session, CSRF and browser refresh cookies without the Secure flag and without the
  ``__Host-`` or ``__Secure-`` prefix (browsers accept either only over HTTPS).

Everything else (DEBUG off, manifest static files served by whitenoise, sessions and
caches in Redis, PostgreSQL) is production's.
"""

from .production import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_SECURE = False
CSRF_COOKIE_NAME = "csrftoken"
BROWSER_REFRESH_COOKIE_SECURE = False
BROWSER_REFRESH_COOKIE_NAME = "browser_refresh"
