"""
Read what the session model leaves where: the cookie the browser holds, and the record the
session store keeps for it (where, under which key, for how long, how many bytes).
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.utils import timezone

from accounts.sessions import SIGN_IN_STATE_KEY, absolute_limit_seconds

from .formatting import duration_text, preview

SESSION_BACKEND_LABELS = {
    "django.contrib.sessions.backends.db": "database",
    "django.contrib.sessions.backends.cache": "cache",
    "accounts.session_store": "cache",
    "django.contrib.sessions.backends.cached_db": "cache + database",
    "django.contrib.sessions.backends.signed_cookies": "signed cookie (no server store)",
}


def _uses(engine_suffix: str) -> bool:
    return settings.SESSION_ENGINE.endswith(engine_suffix)


def _cache_is_redis(cache) -> bool:
    try:
        from django_redis.cache import RedisCache
    except ImportError:  # pragma: no cover - django-redis is a pinned requirement.
        return False
    return isinstance(cache, RedisCache)


@dataclass(frozen=True)
class SessionCookie:
    """The session cookie as the browser holds it: name, flags, lifetime, a preview of the value."""

    name: str
    http_only: bool
    same_site: str | None
    secure: bool
    path: str
    domain: str | None
    ends_with_browser: bool
    max_age_seconds: int | None
    value_preview: str
    value_length: int
    is_the_session: bool

    @property
    def max_age_text(self) -> str:
        return duration_text(self.max_age_seconds)


def session_cookie_policy() -> SessionCookie:
    """Return the session cookie's name and flags as the settings set them (no value)."""
    return SessionCookie(
        name=settings.SESSION_COOKIE_NAME,
        http_only=settings.SESSION_COOKIE_HTTPONLY,
        same_site=settings.SESSION_COOKIE_SAMESITE,
        secure=settings.SESSION_COOKIE_SECURE,
        path=settings.SESSION_COOKIE_PATH,
        domain=settings.SESSION_COOKIE_DOMAIN,
        ends_with_browser=True,
        max_age_seconds=None,
        value_preview="",
        value_length=0,
        is_the_session=_uses("signed_cookies"),
    )


def session_cookie(*, request) -> SessionCookie | None:
    """Return the session cookie this request carried, or None without one."""
    value = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not value:
        return None
    session = request.session
    ends_with_browser = session.get_expire_at_browser_close()
    return replace(
        session_cookie_policy(),
        ends_with_browser=ends_with_browser,
        max_age_seconds=None if ends_with_browser else session.get_expiry_age(),
        value_preview=preview(value),
        value_length=len(value),
    )


@dataclass(frozen=True)
class SessionRecord:
    """What the server keeps for one session, and the limits it enforces on it."""

    backend: str
    engine: str
    location: str
    store_key_preview: str | None
    store_ttl_seconds: int | None
    bytes: int | None
    bytes_source: str
    keys: list[str]
    idle_deadline: datetime | None
    absolute_deadline: datetime | None
    note: str

    @property
    def store_ttl_text(self) -> str:
        return duration_text(self.store_ttl_seconds)

    @property
    def idle_seconds_left(self) -> int | None:
        if self.idle_deadline is None:
            return None
        return max(0, int((self.idle_deadline - timezone.now()).total_seconds()))

    @property
    def idle_left_text(self) -> str:
        return duration_text(self.idle_seconds_left)


def _app_deadlines(session) -> tuple[datetime | None, datetime | None]:
    state = session.get(SIGN_IN_STATE_KEY)
    if not state:
        return None, None
    idle = datetime.fromtimestamp(state["seen"], tz=UTC) + timedelta(
        seconds=settings.SESSION_IDLE_TIMEOUT_SECONDS
    )
    absolute = datetime.fromtimestamp(state["at"], tz=UTC) + timedelta(
        seconds=absolute_limit_seconds(remember=state.get("remember", False))
    )
    return idle, absolute


def session_record(*, request) -> SessionRecord:
    """
    Return what the session store holds for this request's session: where, under which key,
    for how long (the store's own expiry) and how many bytes.
    """
    session = request.session
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME) or ""
    idle, absolute = _app_deadlines(session)
    common = {
        "engine": settings.SESSION_ENGINE,
        "backend": SESSION_BACKEND_LABELS.get(settings.SESSION_ENGINE, settings.SESSION_ENGINE),
        "keys": sorted(session.keys()),
        "idle_deadline": idle,
        "absolute_deadline": absolute,
    }
    if _uses("signed_cookies"):
        return SessionRecord(
            **common,
            location="nowhere: the signed cookie is the whole session",
            store_key_preview=None,
            store_ttl_seconds=None,
            bytes=len(key),
            bytes_source="length of the cookie the browser sends with every request",
            note=(
                "The server keeps no copy, so it cannot delete one: a revoked or copied cookie "
                "works until its next activity check "
                f"(at most {settings.SESSION_ACTIVITY_THROTTLE_SECONDS} s)."
            ),
        )
    if _uses("sessions.backends.db"):
        return _database_record(common, key=key, cached=False)
    if _uses("cached_db"):
        return _database_record(common, key=key, cached=True)
    return _cache_record(common, key=key)


def _database_record(common: dict, *, key: str, cached: bool) -> SessionRecord:
    row = Session.objects.filter(session_key=key).values("expire_date", "session_data").first()
    ttl = None
    size = None
    if row:
        ttl = max(0, int((row["expire_date"] - timezone.now()).total_seconds()))
        size = len(row["session_data"])
    location = f"table {Session._meta.db_table}"
    note = "One row per session, found by its primary key (the cookie's value)."
    if cached:
        cache_key = import_module(settings.SESSION_ENGINE).KEY_PREFIX + key
        location += f", copied in the cache under {_cache_key_preview(cache_key, key)}"
        note = "Read from the cache, written to both; the database row outlives a cache flush."
    return SessionRecord(
        **common,
        location=location,
        store_key_preview=preview(key),
        store_ttl_seconds=ttl,
        bytes=size,
        bytes_source="length of the encoded session_data column",
        note=note,
    )


def _cache_key_preview(cache_key: str, key: str) -> str:
    cache = caches[settings.SESSION_CACHE_ALIAS]
    full = str(cache.make_key(cache_key))
    return full[: len(full) - len(key)] + preview(key)


def _cache_record(common: dict, *, key: str) -> SessionRecord:
    cache = caches[settings.SESSION_CACHE_ALIAS]
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    cache_key = store.cache_key
    if _cache_is_redis(cache):
        from django_redis import get_redis_connection

        ttl = cache.ttl(cache_key)
        size = get_redis_connection(settings.SESSION_CACHE_ALIAS).memory_usage(
            str(cache.make_key(cache_key))
        )
        return SessionRecord(
            **common,
            location="Redis (django-redis)",
            store_key_preview=_cache_key_preview(cache_key, key),
            store_ttl_seconds=ttl,
            bytes=size,
            bytes_source="Redis MEMORY USAGE of the key (value, key and overhead)",
            note="One key per session; Redis drops it by itself when its TTL runs out.",
        )
    return SessionRecord(
        **common,
        location=f"{type(cache).__name__} (this process's memory)",
        store_key_preview=_cache_key_preview(cache_key, key),
        store_ttl_seconds=None,
        bytes=None,
        bytes_source="not measurable in a local-memory cache",
        note="Each process has its own copy: fine for a demo, wrong for more than one worker.",
    )
