"""
Attempt counters that every worker process shares: the sign-in lockout (per account and per
address) and the per-address limits on sign-up and password-reset requests.

An attempt is counted before it is checked, in one atomic step that returns the new count,
so an attempt that finds the counter already at its limit is refused without running the
password hasher: a burst of parallel guesses gets at most the limit checked, on any number
of workers. The window starts at the first attempt and starts again, in full, at the
attempt that reaches the limit, so a lockout lasts its whole window.

Where the counters live (``LOGIN_LOCKOUT_STORE``):

- ``database``: the ``AttemptCounter`` table, one ``INSERT ... ON CONFLICT DO UPDATE ...
  RETURNING`` statement per attempt (SQLite 3.35+ and PostgreSQL). The default without
  ``REDIS_URL``, so the embedded default (SQLite, local-memory cache) is shared too.
- ``cache``: the default cache; on Redis (django-redis) one Lua script per attempt. The
  default with ``REDIS_URL``. ``check --deploy`` refuses a cache that is per process.
"""

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.db.models import F

from .managers import UserManager
from .models import AttemptCounter

SIGNUP = "signup"
PASSWORD_RESET = "password-reset"  # noqa: S105 - an action's name, not a password.
KEY_PREFIX = "lockout:"
# The caches that every worker shares and whose add() and incr() are atomic.
ATOMIC_SHARED_CACHES = {
    "django_redis.cache.RedisCache",
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
}

# INCR, and (re)start the window on the first attempt and on the one that reaches the limit.
_REDIS_HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or count == tonumber(ARGV[2]) or ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""
_REDIS_RELEASE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
    return redis.call('DECR', KEYS[1])
end
return 0
"""


@dataclass
class TooManyRequests(Exception):
    """Raised while an address has made too many requests of one kind (sign-up, reset)."""

    retry_after: int
    code = "throttled"

    def __str__(self):
        return f"Too many requests from your address. Try again in {_minutes(self.retry_after)}."


class LoginLocked(TooManyRequests):
    """Raised while an account or an address is locked out after too many failures."""

    code = "login_locked"

    def __str__(self):
        return f"Too many failed sign-in attempts. Try again in {_minutes(self.retry_after)}."


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"about {minutes} minute{'s' if minutes != 1 else ''}"


def request_client_ip(request) -> str | None:
    """Return the client's address as the server saw it (REMOTE_ADDR)."""
    # X-Forwarded-For is trivially forged unless a proxy we trust sets it; behind such a
    # proxy, configure it to overwrite REMOTE_ADDR instead of trusting the header here.
    return request.META.get("REMOTE_ADDR") or None


def account_key(email: str) -> str:
    """The counter of sign-in attempts on one account (its email, hashed)."""
    # Normalised as the account is stored, so a look-alike spelling counts on the same account.
    address = UserManager.normalize_email_address(email)
    digest = hashlib.sha256(address.encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}account:{digest}"


def address_key(ip: str, *, action: str = "login") -> str:
    """The counter of one address's attempts at one action."""
    return f"{KEY_PREFIX}address:{action}:{ip}"


# --- The store ------------------------------------------------------------------------


def _uses_redis() -> bool:
    from django_redis.cache import RedisCache

    # ``cache`` is a proxy: ask the cache it stands for.
    return settings.LOGIN_LOCKOUT_STORE == "cache" and isinstance(caches["default"], RedisCache)


def counter_hit(*, key: str, limit: int, window: int) -> tuple[int, int]:
    """Count one attempt atomically; return the new count and the seconds its window has left."""
    if settings.LOGIN_LOCKOUT_STORE == "database":
        return _database_hit(key=key, limit=limit, window=window)
    if _uses_redis():
        from django_redis import get_redis_connection

        hit = get_redis_connection("default").register_script(_REDIS_HIT)
        count, ttl_ms = hit(keys=[cache.make_key(key)], args=[window * 1000, limit])
        return int(count), max(1, math.ceil(int(ttl_ms) / 1000))
    # Another shared cache (memcached): add() and incr() are atomic there; its expiry
    # cannot be read back, so the whole window is the honest upper bound.
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # The counter expired between add() and incr().
        cache.set(key, 1, timeout=window)
        count = 1
    if count == limit:
        cache.touch(key, window)
    return count, window


def _database_hit(*, key: str, limit: int, window: int) -> tuple[int, int]:
    table = connection.ops.quote_name(AttemptCounter._meta.db_table)
    key_col, count_col, resets_col = (
        connection.ops.quote_name(c) for c in ("key", "count", "resets_at")
    )
    now = time.time()
    # One statement: the row is created or counted under the database's row lock, so
    # parallel attempts each get a distinct count, on SQLite and PostgreSQL alike.
    # Identifiers come from the model; every value is a query parameter.
    sql = (
        f"INSERT INTO {table} ({key_col}, {count_col}, {resets_col}) VALUES (%s, 1, %s) "  # noqa: S608
        f"ON CONFLICT ({key_col}) DO UPDATE SET "
        f"{count_col} = CASE WHEN {table}.{resets_col} <= %s THEN 1 "
        f"ELSE {table}.{count_col} + 1 END, "
        f"{resets_col} = CASE WHEN {table}.{resets_col} <= %s "
        f"OR {table}.{count_col} + 1 = %s THEN excluded.{resets_col} "
        f"ELSE {table}.{resets_col} END "
        f"RETURNING {count_col}, {resets_col}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, now + window, now, now, limit])
        count, resets_at = cursor.fetchone()
    return count, max(1, math.ceil(resets_at - now))


def counter_release(*, key: str) -> None:
    """Take one attempt back (it turned out to be a success)."""
    if settings.LOGIN_LOCKOUT_STORE == "database":
        AttemptCounter.objects.filter(key=key, count__gt=0).update(count=F("count") - 1)
    elif _uses_redis():
        from django_redis import get_redis_connection

        get_redis_connection("default").register_script(_REDIS_RELEASE)(keys=[cache.make_key(key)])
    else:
        try:
            if cache.decr(key) < 0:
                cache.delete(key)
        except ValueError:
            pass


def counters_clear(*, keys: list[str] | None = None) -> None:
    """Forget these counters, or every counter of the lockout when ``keys`` is None."""
    if settings.LOGIN_LOCKOUT_STORE == "database":
        rows = AttemptCounter.objects.all()
        (rows if keys is None else rows.filter(key__in=keys)).delete()
    elif keys is not None:
        cache.delete_many(keys)
    elif _uses_redis():
        cache.delete_pattern(f"{KEY_PREFIX}*")
    else:
        raise ValueError("This cache cannot list its keys: clear one email or address.")


def counters_prune() -> int:
    """Delete the database's counters whose window has ended; return how many."""
    if settings.LOGIN_LOCKOUT_STORE != "database":
        return 0  # Redis and memcached expire their keys themselves.
    deleted, _ = AttemptCounter.objects.filter(resets_at__lte=time.time()).delete()
    return deleted


# --- The rules ------------------------------------------------------------------------


def login_attempt_begin(*, email: str, ip: str | None) -> None:
    """
    Count a sign-in attempt on the account and from the address, before its password is
    checked; raise LoginLocked (the password then is not checked) if either is past the limit.
    """
    limit, window = settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_LOCKOUT_SECONDS
    # The address first: a locked address does not count against the account it tries.
    keys = ([address_key(ip)] if ip else []) + [account_key(email)]
    for key in keys:
        count, retry_after = counter_hit(key=key, limit=limit, window=window)
        if count > limit:
            raise LoginLocked(retry_after=retry_after)


def login_attempt_succeeded(*, email: str, ip: str | None) -> None:
    """Forget the account's attempts; take this one back from the address's count."""
    counters_clear(keys=[account_key(email)])
    if ip:
        counter_release(key=address_key(ip))


def address_attempt_record(*, request, action: str) -> None:
    """
    Count one request of ``action`` (SIGNUP, PASSWORD_RESET) from the request's address;
    raise TooManyRequests once the address is past its limit. The storefront's sign-up and
    reset views call this; the API's exception handler answers it with 429 JSON.
    """
    ip = request_client_ip(request)
    if not ip:
        return
    limit = {
        SIGNUP: settings.SIGNUP_LIMIT_PER_ADDRESS,
        PASSWORD_RESET: settings.PASSWORD_RESET_LIMIT_PER_ADDRESS,
    }[action]
    count, retry_after = counter_hit(
        key=address_key(ip, action=action), limit=limit, window=settings.ADDRESS_LIMIT_SECONDS
    )
    if count > limit:
        raise TooManyRequests(retry_after=retry_after)


def store_problem(*, store: str, database: dict, cache_backend: str) -> str | None:
    """
    Say why counters in ``store`` (with this default database and cache backend) would not
    be shared by every worker process, or return None.
    """
    if store == "database":
        name = str(database.get("NAME", ""))
        if database["ENGINE"].endswith("sqlite3") and (name == ":memory:" or "mode=memory" in name):
            return "the counters would live in an in-memory SQLite database, one per process"
        return None
    if store == "cache":
        if cache_backend.rsplit(".", 1)[-1] in {"LocMemCache", "DummyCache"}:
            return f"the counters would live in {cache_backend}, which each process has its own of"
        if cache_backend not in ATOMIC_SHARED_CACHES:
            # The file and database caches are shared, but their incr() is a get and a set:
            # a burst of parallel guesses can read the same count.
            return f"{cache_backend} cannot count atomically; use Redis or the database"
        return None
    return f"LOGIN_LOCKOUT_STORE is {store!r}, not 'database' or 'cache'"
