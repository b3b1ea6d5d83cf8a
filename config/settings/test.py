"""
Settings for the test suite.

Keys are fixed test values; the password hasher is a fast one so that signing users in
does not dominate the suite's time. DATABASE_URL and REDIS_URL are honoured, so the same
suite runs on SQLite or PostgreSQL and with or without Redis.
"""

from .base import *  # noqa: F403
from .base import SIMPLE_JWT

SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
JWT_SIGNING_KEY = "test-jwt-signing-key-not-for-production-0123456789abcdef"  # noqa: S105
SIMPLE_JWT["SIGNING_KEY"] = JWT_SIGNING_KEY

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The browser client may show the pattern to avoid (tokens in localStorage): a demo.
WEBCLIENT_LOCALSTORAGE_DEMO = True
