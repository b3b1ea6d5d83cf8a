"""
Settings shared by every environment.

Every knob is read from the environment (documented in ``.env.example``); the defaults are
safe and need no services: SQLite, database-backed sessions, a local-memory cache.
``local.py``, ``test.py`` and ``production.py`` import this module and adjust it.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# A secret is deliberately not given a default here: local.py generates one on disk,
# test.py uses a fixed test value and production.py refuses to start without one.
SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "shop",
    "api",
    "webclient",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Every answer under /api/ is Cache-Control: no-store (tokens, account data, errors).
    "api.middleware.ApiNoStoreMiddleware",
    # JSON, not Django's HTML debug pages, for exceptions under /api/ when DEBUG is on.
    "api.middleware.ApiJsonErrorsMiddleware",
    # whitenoise's, able to run under ASGI without a thread switch (config/middleware.py).
    "config.middleware.StaticFilesMiddleware",
    # Django's session and authentication middleware, with the project's additions beside
    # them, one job each (accounts/middleware.py): a 503 while a store is down, no lookup
    # of a cookie that cannot be a session key, the sign-in index and timeouts, no-store on
    # pages for signed-in users. AUTH_FAST_PATH=1 swaps the two stock ones (fastpath/conf.py).
    "accounts.middleware.SessionOutageMiddleware",
    "accounts.middleware.SessionCookieGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.PrivateNoStoreMiddleware",
    "accounts.middleware.SignInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.site_header",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# DATABASE_URL selects PostgreSQL (postgres://user@host:port/name); without it, SQLite.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Reuse connections across requests: opening one (and, on SQLite, its first statement)
# costs more than most of the queries a request runs.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A server connection can die between requests: check it before use.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    # Wait for a lock rather than fail at once when two requests write at the same time.
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------
# REDIS_URL makes Redis (through django-redis) the cache, and so the store of the
# cache-backed session engines. Exceptions are NOT ignored: a Redis outage must surface
# as an error, not be mistaken for "no session".
REDIS_URL = env("REDIS_URL", default="")
# Or a Redis primary watched by Sentinels, which promote a replica when it dies
# (django-redis's Sentinel support): REDIS_SENTINELS names the Sentinels, not Redis.
REDIS_SENTINELS = env.list("REDIS_SENTINELS", default=[])
REDIS_SENTINEL_SERVICE = env("REDIS_SENTINEL_SERVICE", default="mymaster")
REDIS_SENTINEL_DB = env.int("REDIS_SENTINEL_DB", default=0)
REDIS_PASSWORD = env("REDIS_PASSWORD", default="")
REDIS_SENTINEL_PASSWORD = env("REDIS_SENTINEL_PASSWORD", default="")
if REDIS_URL and REDIS_SENTINELS:
    raise environ.ImproperlyConfigured(
        "Set REDIS_URL (one Redis) or REDIS_SENTINELS (Redis behind Sentinel), not both."
    )
# Whether Redis is the shared store, reached either way.
REDIS_CONFIGURED = bool(REDIS_URL or REDIS_SENTINELS)


def _sentinel_address(text: str) -> tuple[str, int]:
    """Parse one REDIS_SENTINELS entry, "host:port" or "[v6 address]:port"."""
    host, sep, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not (sep and host and port.isdigit() and 0 < int(port) < 65536):
        raise environ.ImproperlyConfigured(
            f"REDIS_SENTINELS entries are host:port, comma-separated; {text!r} is not."
        )
    return host, int(port)


_REDIS_OPTIONS = {
    "CLIENT_CLASS": "django_redis.client.DefaultClient",
    "PARSER_CLASS": "redis.connection._HiredisParser",
    "SOCKET_CONNECT_TIMEOUT": 1,
    "SOCKET_TIMEOUT": 1,
}
if REDIS_PASSWORD:
    _REDIS_OPTIONS["PASSWORD"] = REDIS_PASSWORD
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="shop"),
            "OPTIONS": _REDIS_OPTIONS,
        }
    }
elif REDIS_SENTINELS:
    _sentinel_kwargs = {"socket_connect_timeout": 1, "socket_timeout": 1}
    if REDIS_SENTINEL_PASSWORD:
        _sentinel_kwargs["password"] = REDIS_SENTINEL_PASSWORD
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            # The service name stands where a host would. A list of one URL, the primary:
            # given a single string, django-redis's SentinelClient also opens a replica
            # pool and sends every read there, so a session deleted on the primary (a
            # sign-out) could still be read from a replica that has not caught up.
            "LOCATION": [f"redis://{REDIS_SENTINEL_SERVICE}/{REDIS_SENTINEL_DB}"],
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="shop"),
            "OPTIONS": {
                **_REDIS_OPTIONS,
                "CLIENT_CLASS": "django_redis.client.SentinelClient",
                "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
                "SENTINELS": [_sentinel_address(entry) for entry in REDIS_SENTINELS],
                "SENTINEL_KWARGS": _sentinel_kwargs,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "shop-default",
        }
    }

# --- The fast path --------------------------------------------------------------------
# Off by default: the site runs Django's and simplejwt's own pieces. AUTH_FAST_PATH=1 swaps
# in the project's speed work (fastpath/, docs/fast-path.md); the benchmark measures both.
AUTH_FAST_PATH = env.bool("AUTH_FAST_PATH", default=False)
# Under ASGI with the fast path, each worker process keeps up to this many idle threads
# (each with its database connection) for requests' sync code, making more in a burst
# (fastpath.asgi.PooledThreadsASGIHandler); stock Django makes a thread for every request.
ASGI_THREADS = env.int("ASGI_THREADS", default=8)

# --- Sessions -------------------------------------------------------------------------
SESSION_ENGINES = {
    "db": "django.contrib.sessions.backends.db",
    # Django's cache engine; its only difference is that an unreachable Redis is not
    # mistaken for "no session", which would sign everybody out (accounts/session_store.py).
    "cache": "accounts.session_store",
    "cached_db": "django.contrib.sessions.backends.cached_db",
    "signed_cookies": "django.contrib.sessions.backends.signed_cookies",
}
SESSION_BACKEND = env("SESSION_BACKEND", default="db")
if SESSION_BACKEND not in SESSION_ENGINES:
    raise environ.ImproperlyConfigured(
        f"SESSION_BACKEND must be one of {', '.join(SESSION_ENGINES)}, not {SESSION_BACKEND!r}."
    )
if SESSION_BACKEND in ("cache", "cached_db") and not REDIS_CONFIGURED:
    # Without Redis the cache is each process's own memory: the cache engine's store has
    # no Redis pool and answers every signed-in request with a 500, and cached_db would
    # keep a session a worker has not seen end alive in its own memory.
    raise environ.ImproperlyConfigured(
        f"SESSION_BACKEND={SESSION_BACKEND} needs REDIS_URL (e.g. redis://127.0.0.1:6379/0) "
        "or REDIS_SENTINELS: "
        "every worker must share one session cache. Use SESSION_BACKEND=db without Redis."
    )
SESSION_ENGINE = SESSION_ENGINES[SESSION_BACKEND]
# Opt-in, on the fast path with sessions in Redis: each process keeps copies of the sessions
# it read, dropped when Redis says they changed (fastpath/client_cache.py). A revocation on
# one worker reaches the others after a lag that `make bench` measures; off, every request
# asks Redis.
SESSION_CLIENT_CACHE = env.bool("SESSION_CLIENT_CACHE", default=False)
SESSION_CLIENT_CACHE_SIZE = env.int("SESSION_CLIENT_CACHE_SIZE", default=10_000)
if SESSION_CLIENT_CACHE and not (AUTH_FAST_PATH and SESSION_BACKEND == "cache"):
    raise environ.ImproperlyConfigured(
        "SESSION_CLIENT_CACHE=1 needs AUTH_FAST_PATH=1 and SESSION_BACKEND=cache: it keeps "
        "copies of sessions read from Redis (fastpath/client_cache.py)."
    )
if SESSION_CLIENT_CACHE_SIZE < 1:
    raise environ.ImproperlyConfigured("SESSION_CLIENT_CACHE_SIZE must be 1 or more.")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)
SESSION_IDLE_TIMEOUT_SECONDS = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=1800)
SESSION_ABSOLUTE_TIMEOUT_SECONDS = env.int("SESSION_ABSOLUTE_TIMEOUT_SECONDS", default=43200)
SESSION_REMEMBER_ME_SECONDS = env.int("SESSION_REMEMBER_ME_SECONDS", default=60 * 60 * 24 * 14)
# A signed-in session records its activity (and re-checks its user row) at most this often;
# every other request reads the session and writes nothing. The idle timeout is measured
# from the last recorded activity, so it is exact to within this many seconds.
SESSION_ACTIVITY_THROTTLE_SECONDS = env.int("SESSION_ACTIVITY_THROTTLE_SECONDS", default=60)
# `manage.py prune` deletes ended and expired sign-ins this many days after they ended:
# until then staff can see in the admin how and when each one ended.
SIGNIN_RETENTION_DAYS = env.int("SIGNIN_RETENTION_DAYS", default=30)
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"

# /app/ can keep its tokens in localStorage to show why not to (docs/browser-client.md):
# a demonstration only, offered where this is True (local and test settings), never in
# production or anything derived from it.
WEBCLIENT_LOCALSTORAGE_DEMO = False

# --- Authentication -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "shop:catalog"
LOGOUT_REDIRECT_URL = "shop:catalog"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    # As long as the API's password inputs allow; a megabyte is refused, not hashed.
    {"NAME": "accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 4096}},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Brute-force lockout, shared by the storefront login, the admin login and the token endpoint.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
# Where the attempt counters live; every worker process must share them (accounts/lockout.py):
# "cache" (Redis) with REDIS_URL or REDIS_SENTINELS, the database's AttemptCounter table without.
LOGIN_LOCKOUT_STORE = env(
    "LOGIN_LOCKOUT_STORE", default="cache" if REDIS_CONFIGURED else "database"
)
if LOGIN_LOCKOUT_STORE not in ("cache", "database"):
    raise environ.ImproperlyConfigured(
        f"LOGIN_LOCKOUT_STORE must be 'cache' or 'database', not {LOGIN_LOCKOUT_STORE!r}."
    )
if LOGIN_LOCKOUT_STORE == "cache" and not REDIS_CONFIGURED:
    raise environ.ImproperlyConfigured(
        "LOGIN_LOCKOUT_STORE=cache needs REDIS_URL or REDIS_SENTINELS: without Redis the cache "
        "is each process's own."
    )
# Requests per address and window that sign up or ask for a password-reset email.
SIGNUP_LIMIT_PER_ADDRESS = env.int("SIGNUP_LIMIT_PER_ADDRESS", default=10)
PASSWORD_RESET_LIMIT_PER_ADDRESS = env.int("PASSWORD_RESET_LIMIT_PER_ADDRESS", default=5)
ADDRESS_LIMIT_SECONDS = env.int("ADDRESS_LIMIT_SECONDS", default=3600)

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="shop@example.com")

# --- Django REST Framework and JWT ----------------------------------------------------
# Only JWT bearer authentication on /api/: no session authentication there, so the API has
# no CSRF surface but the browser endpoints' refresh cookie, which they check CSRF for
# themselves (api/browser_views.py). Every view is closed unless it says otherwise; errors
# share one JSON shape (api/exceptions.py).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.JWTBearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "api.pagination.StrictPageNumberPagination",
    "PAGE_SIZE": 20,
    "UNAUTHENTICATED_USER": None,
}

JWT_ALGORITHMS = ("HS256", "RS256", "EdDSA")
JWT_ALGORITHM = env("JWT_ALGORITHM", default="HS256")
if JWT_ALGORITHM not in JWT_ALGORITHMS:
    raise environ.ImproperlyConfigured(
        f"JWT_ALGORITHM must be one of {', '.join(JWT_ALGORITHMS)}, not {JWT_ALGORITHM!r}."
    )
# HS256 signs with a shared secret of its own (never SECRET_KEY); RS256 and EdDSA sign with
# a private key and publish the public one at /.well-known/jwks.json.
JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default="")
JWT_PRIVATE_KEY_FILE = env("JWT_PRIVATE_KEY_FILE", default="")
JWT_PUBLIC_KEY_FILE = env("JWT_PUBLIC_KEY_FILE", default="")
# Key rotation (docs/jwt.md, "Rotating the signing key"): keys that still verify the tokens
# they signed but never sign, comma-separated. HS256 secrets here, PEM public key files
# (RSA or Ed25519) there; JWT_PREVIOUS_PUBLIC_KEYS holds the files' contents.
JWT_PREVIOUS_SIGNING_KEYS = [
    key.strip() for key in env.list("JWT_PREVIOUS_SIGNING_KEYS", default=[]) if key.strip()
]
JWT_PREVIOUS_PUBLIC_KEY_FILES = [
    path.strip() for path in env.list("JWT_PREVIOUS_PUBLIC_KEY_FILES", default=[]) if path.strip()
]
# The absolute cap on a refresh-token chain: rotation never extends a sign-in past this.
JWT_REFRESH_MAX_AGE_SECONDS = env.int("JWT_REFRESH_MAX_AGE_SECONDS", default=7 * 24 * 3600)
# A rotated refresh token presented again within this many seconds of its rotation is a
# retry (a lost response, two tabs), answered with the chain's current refresh token; later
# it is reuse and ends its sign-in. 0 treats every second use as reuse.
JWT_REFRESH_REUSE_INTERVAL_SECONDS = env.int("JWT_REFRESH_REUSE_INTERVAL_SECONDS", default=5)
if not 0 <= JWT_REFRESH_REUSE_INTERVAL_SECONDS <= 60:
    raise environ.ImproperlyConfigured(
        "JWT_REFRESH_REUSE_INTERVAL_SECONDS must be between 0 and 60."
    )
# "db" loads the user on every request, so deactivation and password changes bite at once;
# "stateless" trusts the claims and touches neither the database nor Redis.
JWT_USER_LOOKUP = env("JWT_USER_LOOKUP", default="db")
if JWT_USER_LOOKUP not in ("db", "stateless"):
    raise environ.ImproperlyConfigured(
        f"JWT_USER_LOOKUP must be 'db' or 'stateless', not {JWT_USER_LOOKUP!r}."
    )
# With the denylist, ending a token sign-in (logout, revocation, password change) also
# refuses its access tokens at once, at the cost of one Redis GET per request.
JWT_ACCESS_DENYLIST = env.bool("JWT_ACCESS_DENYLIST", default=False)
if JWT_ACCESS_DENYLIST and not REDIS_CONFIGURED:
    raise environ.ImproperlyConfigured(
        "JWT_ACCESS_DENYLIST needs REDIS_URL or REDIS_SENTINELS: every worker must see the "
        "same denylist."
    )
# With AUTH_FAST_PATH, each process remembers up to this many access tokens it has verified
# (signature and claims), until they expire: a client's next request with the same token
# skips the cryptography. 0 verifies every request. See fastpath/jwt.py; the stock path
# verifies every request and does not read this.
JWT_VERIFIED_TOKEN_CACHE_SIZE = env.int("JWT_VERIFIED_TOKEN_CACHE_SIZE", default=1024)
JWT_LEEWAY_SECONDS = env.int("JWT_LEEWAY_SECONDS", default=10)
if not 0 <= JWT_LEEWAY_SECONDS <= 30:
    raise environ.ImproperlyConfigured("JWT_LEEWAY_SECONDS must be between 0 and 30.")


def jwt_keys(
    *, algorithm: str, signing_key: str, private_key_file: str, public_key_file: str
) -> tuple[str, str]:
    """
    Return (signing key, verifying key) for SIMPLE_JWT: the shared secret for HS256, the
    PEM key pair read from its files for RS256 and EdDSA ("" where not configured).
    """
    if algorithm == "HS256":
        return signing_key, ""
    if not (private_key_file and public_key_file):
        return "", ""
    keys = []
    for name, path in (
        ("JWT_PRIVATE_KEY_FILE", private_key_file),
        ("JWT_PUBLIC_KEY_FILE", public_key_file),
    ):
        try:
            keys.append(Path(path).read_text())
        except OSError as exc:
            raise environ.ImproperlyConfigured(f"{name}={path} cannot be read: {exc}") from exc
    return keys[0], keys[1]


def key_files_read(name: str, paths: list[str]) -> list[str]:
    """Return the contents of the key files a setting names; refuse a file it cannot read."""
    keys = []
    for path in paths:
        try:
            keys.append(Path(path).read_text())
        except OSError as exc:
            raise environ.ImproperlyConfigured(f"{name}: {path} cannot be read: {exc}") from exc
    return keys


JWT_PREVIOUS_PUBLIC_KEYS = key_files_read(
    "JWT_PREVIOUS_PUBLIC_KEY_FILES", JWT_PREVIOUS_PUBLIC_KEY_FILES
)
_jwt_signing_key, _jwt_verifying_key = jwt_keys(
    algorithm=JWT_ALGORITHM,
    signing_key=JWT_SIGNING_KEY,
    private_key_file=JWT_PRIVATE_KEY_FILE,
    public_key_file=JWT_PUBLIC_KEY_FILE,
)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_LIFETIME_SECONDS", default=300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(
        seconds=env.int("JWT_REFRESH_LIFETIME_SECONDS", default=86400)
    ),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": JWT_ALGORITHM,
    "SIGNING_KEY": _jwt_signing_key,
    "VERIFYING_KEY": _jwt_verifying_key,
    "ISSUER": env("JWT_ISSUER", default="sessions-vs-jwt-shop"),
    "AUDIENCE": env("JWT_AUDIENCE", default="sessions-vs-jwt-shop-api"),
    "LEEWAY": JWT_LEEWAY_SECONDS,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Access tokens carry a digest of the password hash: a password change makes every
    # access token fail at once (in "db" user lookup mode).
    "CHECK_REVOKE_TOKEN": True,
    "CHECK_USER_IS_ACTIVE": True,
}


def jwt_audiences(value: str) -> dict[str, str]:
    """
    Parse ``JWT_AUDIENCES``: the RFC 8707 resource indicators a client may ask an access
    token for, comma-separated, each ``URI`` (the token's ``aud`` is then the URI itself, as
    RFC 9068 §3 advises) or ``URI=AUDIENCE``. Return {resource: audience}.
    """
    audiences = {}
    for entry in filter(None, (item.strip() for item in value.split(","))):
        resource, _, audience = (part.strip() for part in entry.partition("="))
        # RFC 8707 §2: an absolute URI without a fragment.
        if not urlsplit(resource).scheme or "#" in resource or (not audience and "=" in entry):
            raise environ.ImproperlyConfigured(
                f"JWT_AUDIENCES: {entry!r} is not an absolute URI (no #fragment), "
                "optionally followed by =AUDIENCE."
            )
        audiences[resource] = audience or resource
    return audiences


# The services a client may ask a token for (``resource`` on /api/auth/token/). A token asked
# for without one is for this API itself: SIMPLE_JWT["AUDIENCE"], the only audience it accepts.
JWT_AUDIENCES = jwt_audiences(env("JWT_AUDIENCES", default=""))

# Browser clients keep the refresh token in this cookie, HttpOnly and limited to the
# browser endpoints' path (api/browser_views.py); production names it __Secure- and sends
# it over HTTPS only.
BROWSER_REFRESH_COOKIE_NAME = "browser_refresh"
BROWSER_REFRESH_COOKIE_SECURE = False

SPECTACULAR_SETTINGS = {
    "TITLE": "Sessions vs JWT shop API",
    "DESCRIPTION": (
        "The storefront's catalog, cart and orders, authenticated with JWT bearer tokens. "
        "Every error answers with the same JSON object: `detail`, `code`, and for invalid "
        "input `errors` (field name to messages)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs are public and never look at an Authorization header.
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False},
    "PATH_CONVERTER_OVERRIDES": {
        "api_id": {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999},
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.document_error_responses",
        "api.schema.document_text_inputs",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}

if AUTH_FAST_PATH:
    from fastpath.conf import overrides as _fast_path_overrides

    globals().update(_fast_path_overrides(globals()))
