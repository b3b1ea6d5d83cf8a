"""
Read what each model leaves where, for the comparison page: the session cookie and the
session record on one side, the token pair and the token tables on the other.

Nothing here writes. Values that would work as credentials (the session key, a token's
signature) are never returned whole: the page is HTML, readable by any script that runs
on it, and the session cookie is HttpOnly precisely so that scripts cannot read it.
"""

import base64
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db.models import Sum
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import SignIn, User
from accounts.sessions import SIGNIN_STATE_KEY, absolute_limit_seconds
from api.housekeeping import token_table_stats
from api.keys import ASYMMETRIC_ALGORITHMS
from api.token_checks import signins_denied

# How much of a secret value the page shows: enough to recognise it, far too little to use.
PREVIEW_CHARS = 8

SESSION_BACKEND_LABELS = {
    "django.contrib.sessions.backends.db": "database",
    "django.contrib.sessions.backends.cache": "cache",
    "accounts.session_store": "cache",
    "django.contrib.sessions.backends.cached_db": "cache + database",
    "django.contrib.sessions.backends.signed_cookies": "signed cookie (no server store)",
}


def preview(secret: str) -> str:
    """Return the first few characters of a secret value followed by an ellipsis."""
    return f"{secret[:PREVIEW_CHARS]}…" if secret else ""


def duration_text(seconds: int | float | None) -> str:
    """Return a duration for people: "14 days", "12 h", "4 min 59 s", "0 s"."""
    if seconds is None:
        return "–"
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "day" if days == 1 else "days"), (hours, "h"), (minutes, "min"), (secs, "s")]
    shown = [f"{value} {unit}" for value, unit in parts if value][:2]
    return " ".join(shown) or "0 s"


def _uses(engine_suffix: str) -> bool:
    return settings.SESSION_ENGINE.endswith(engine_suffix)


def _cache_is_redis(cache) -> bool:
    try:
        from django_redis.cache import RedisCache
    except ImportError:  # pragma: no cover - django-redis is a pinned requirement.
        return False
    return isinstance(cache, RedisCache)


# --- Sessions -----------------------------------------------------------------------------


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
    state = session.get(SIGNIN_STATE_KEY)
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


# --- Tokens -------------------------------------------------------------------------------


def _b64_json(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


@dataclass(frozen=True)
class DecodedToken:
    """A JWT as any holder can read it: header and claims are base64url, not encrypted."""

    kind: str
    header: dict
    claims: dict
    encoded_length: int | None
    signature_preview: str | None
    expires_at: datetime
    issued_at: datetime

    @property
    def expires_in_seconds(self) -> int:
        return max(0, int((self.expires_at - timezone.now()).total_seconds()))

    @property
    def expires_in_text(self) -> str:
        return duration_text(self.expires_in_seconds)

    @property
    def lifetime_text(self) -> str:
        return duration_text((self.expires_at - self.issued_at).total_seconds())

    @property
    def header_json(self) -> str:
        return json.dumps(self.header, indent=2)

    @property
    def claims_json(self) -> str:
        return json.dumps(self.claims, indent=2)


def token_decode(raw: str, *, kind: str) -> DecodedToken:
    """
    Decode a token's header and claims without checking it, as a client can: the first two
    segments are base64url JSON. A third segment (the signature) is previewed, not returned.
    """
    segments = raw.split(".")
    claims = _b64_json(segments[1])
    signature = segments[2] if len(segments) > 2 else None
    return DecodedToken(
        kind=kind,
        header=_b64_json(segments[0]),
        claims=claims,
        encoded_length=len(raw) if signature is not None else None,
        signature_preview=preview(signature) if signature else None,
        expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC),
        issued_at=datetime.fromtimestamp(claims["iat"], tz=UTC),
    )


@dataclass(frozen=True)
class JwtPolicy:
    """How this site signs and checks tokens (from the settings)."""

    algorithm: str
    asymmetric: bool
    jwks_url: str | None
    access_lifetime_seconds: int
    refresh_lifetime_seconds: int
    refresh_max_age_seconds: int
    user_lookup: str
    denylist: bool
    leeway_seconds: int
    issuer: str
    audience: str

    @property
    def access_lifetime_text(self) -> str:
        return duration_text(self.access_lifetime_seconds)

    @property
    def refresh_lifetime_text(self) -> str:
        return duration_text(self.refresh_lifetime_seconds)

    @property
    def refresh_max_age_text(self) -> str:
        return duration_text(self.refresh_max_age_seconds)


def jwt_policy() -> JwtPolicy:
    """Return the site's token policy."""
    jwt_settings = settings.SIMPLE_JWT
    algorithm = jwt_settings["ALGORITHM"]
    asymmetric = algorithm in ASYMMETRIC_ALGORITHMS
    return JwtPolicy(
        algorithm=algorithm,
        asymmetric=asymmetric,
        jwks_url=reverse("jwks") if asymmetric else None,
        access_lifetime_seconds=int(jwt_settings["ACCESS_TOKEN_LIFETIME"].total_seconds()),
        refresh_lifetime_seconds=int(jwt_settings["REFRESH_TOKEN_LIFETIME"].total_seconds()),
        refresh_max_age_seconds=settings.JWT_REFRESH_MAX_AGE_SECONDS,
        user_lookup=settings.JWT_USER_LOOKUP,
        denylist=settings.JWT_ACCESS_DENYLIST,
        leeway_seconds=jwt_settings["LEEWAY"],
        issuer=jwt_settings["ISSUER"],
        audience=jwt_settings["AUDIENCE"],
    )


def refresh_token_on_record(*, sign_in: SignIn) -> DecodedToken | None:
    """
    Return the newest unrotated refresh token of a token sign-in as the server recorded it:
    header and claims only, because the OutstandingToken row keeps no signature.
    """
    row = (
        OutstandingToken.objects.filter(
            user_id=sign_in.user_id,
            jti__startswith=sign_in.pk.hex,
            blacklistedtoken__isnull=True,
        )
        .order_by("-created_at")
        .first()
    )
    return token_decode(row.token, kind="refresh") if row else None


@dataclass(frozen=True)
class DenylistEntry:
    sign_in_id: str
    expires_in_seconds: int

    @property
    def expires_in_text(self) -> str:
        return duration_text(self.expires_in_seconds)


@dataclass(frozen=True)
class TokenStorage:
    """What the server keeps for a user's tokens, and the size of the token tables."""

    outstanding_rows: int
    usable_rows: int
    outstanding_bytes: int
    live_token_signins: int
    tables: list[dict]
    denylist_on: bool
    denylist_entries: list[DenylistEntry]


def token_storage(*, user: User) -> TokenStorage:
    """
    Return the user's refresh-token rows, the token tables' sizes (the same figures as
    ``manage.py token_stats``) and, with the denylist on, the user's entries in it.
    """
    now = timezone.now()
    rows = OutstandingToken.objects.filter(user=user)
    entries = []
    if settings.JWT_ACCESS_DENYLIST:
        jwt_settings = settings.SIMPLE_JWT
        window = jwt_settings["ACCESS_TOKEN_LIFETIME"] + timedelta(
            seconds=jwt_settings["LEEWAY"] + 1
        )
        recently_ended = dict(
            SignIn.objects.filter(
                user=user, kind=SignIn.Kind.TOKEN, ended_at__gte=now - window
            ).values_list("pk", "ended_at")
        )
        denied = signins_denied(sign_in_ids=recently_ended)
        entries = [
            DenylistEntry(
                sign_in_id=str(pk),
                expires_in_seconds=max(0, int((ended + window - now).total_seconds())),
            )
            for pk, ended in recently_ended.items()
            if str(pk) in denied
        ]
    return TokenStorage(
        outstanding_rows=rows.count(),
        usable_rows=rows.filter(blacklistedtoken__isnull=True, expires_at__gt=now).count(),
        outstanding_bytes=rows.aggregate(total=Sum(Length("token")))["total"] or 0,
        live_token_signins=SignIn.objects.filter(
            user=user, kind=SignIn.Kind.TOKEN, ended_at__isnull=True, expires_at__gt=now
        ).count(),
        tables=token_table_stats(),
        denylist_on=settings.JWT_ACCESS_DENYLIST,
        denylist_entries=entries,
    )
