"""
Settings for production: everything secret or host-specific must come from the
environment, and the site refuses to start without it.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    JWT_ALGORITHM,
    JWT_PREVIOUS_PUBLIC_KEYS,
    JWT_PREVIOUS_SIGNING_KEYS,
    SIMPLE_JWT,
    env,
)


def _required(name: str) -> str:
    value = env(name, default="")
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable for production.")
    return value


DEBUG = False
SECRET_KEY = _required("SECRET_KEY")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS (comma-separated) for production.")
if JWT_ALGORITHM == "HS256":
    JWT_SIGNING_KEY = _required("JWT_SIGNING_KEY")
    if len(JWT_SIGNING_KEY) < 43:
        raise ImproperlyConfigured(
            "JWT_SIGNING_KEY must hold at least 256 random bits (43+ characters)."
        )
    if JWT_SIGNING_KEY == SECRET_KEY:
        raise ImproperlyConfigured("JWT_SIGNING_KEY must differ from SECRET_KEY.")
    SIMPLE_JWT["SIGNING_KEY"] = JWT_SIGNING_KEY
else:
    # base.py has read the key files; the private one signs, the public one verifies and
    # is published as the JWKS. The api.E00x system checks validate the pair.
    JWT_PRIVATE_KEY_FILE = _required("JWT_PRIVATE_KEY_FILE")
    JWT_PUBLIC_KEY_FILE = _required("JWT_PUBLIC_KEY_FILE")
# The previous keys of a rotation verify as well as the current one: the same rules.
for _key in JWT_PREVIOUS_SIGNING_KEYS:
    if len(_key) < 43:
        raise ImproperlyConfigured(
            "Each of JWT_PREVIOUS_SIGNING_KEYS must hold at least 256 random bits (43+ characters)."
        )
    if _key == SECRET_KEY:
        raise ImproperlyConfigured("JWT_PREVIOUS_SIGNING_KEYS must not list SECRET_KEY.")
    if JWT_ALGORITHM == "HS256" and _key == SIMPLE_JWT["SIGNING_KEY"]:
        raise ImproperlyConfigured(
            "JWT_PREVIOUS_SIGNING_KEYS must not list the current JWT_SIGNING_KEY."
        )
if JWT_ALGORITHM != "HS256" and SIMPLE_JWT["VERIFYING_KEY"] in JWT_PREVIOUS_PUBLIC_KEYS:
    raise ImproperlyConfigured(
        "JWT_PREVIOUS_PUBLIC_KEY_FILES must not list the current public key (JWT_PUBLIC_KEY_FILE)."
    )

# HTTPS only: cookies never travel in clear, and the __Host- prefix pins them to this
# exact host and path so a sibling subdomain cannot plant or overwrite them.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_NAME = "__Host-csrftoken"
# __Secure-, not __Host-: the cookie is limited to the browser endpoints' Path, which
# __Host- forbids.
BROWSER_REFRESH_COOKIE_SECURE = True
BROWSER_REFRESH_COOKIE_NAME = "__Secure-browser_refresh"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
