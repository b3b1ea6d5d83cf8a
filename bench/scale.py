"""
Scale: what a session lookup costs and what a session weighs as the store fills up, and
how many token-table rows one API sign-in leaves behind.

Sessions are written in bulk (a Redis pipeline; COPY or batched INSERTs in the database)
with the site's own encoding, so the lookups that follow go through Django's session
stores exactly as a request would. The Redis measurement uses a database of its own (emptied
before and after) so that ``INFO memory`` and ``DBSIZE`` count nothing but these sessions.
"""

import random
import secrets
import time
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends import cache as cache_sessions
from django.contrib.sessions.backends import db as db_sessions
from django.db import connection, transaction
from django.utils import timezone

from .stats import median, percentile

REDIS_BATCH = 10_000
DB_BATCH = 20_000
# Database session keys written here start with this, so they can be removed afterwards.
DB_KEY_PREFIX = "benchscale"


class ScaleUnavailable(Exception):
    """The scale measurement cannot run here; the message says why."""


def minimal_session_data() -> dict:
    """A signed-in session as django.contrib.auth leaves it, when the storefront is absent."""
    return {
        "_auth_user_id": "1",
        "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
        "_auth_user_hash": secrets.token_hex(32),
    }


def _timed_lookups(load, keys: list[str], samples: int) -> dict:
    """Time ``load(key)`` for random keys; every one must find its session."""
    chosen = random.sample(keys, min(samples, len(keys)))
    load(chosen[0])  # warm-up: the connection, the first query plan
    times = []
    for key in chosen:
        started = time.perf_counter()
        found = load(key)
        times.append((time.perf_counter() - started) * 1e6)
        if not found:
            raise ScaleUnavailable(
                "a written session was not found by the session store: the keys do not "
                "match the store's format"
            )
    return {"median_us": median(times), "p99_us": percentile(times, 99), "lookups": len(times)}


def _redis_cache(url: str):
    """
    A django-redis cache on ``url`` configured as the site's (its options and key prefix,
    so keys weigh what the site's keys weigh).
    """
    from django_redis.cache import RedisCache

    site = settings.CACHES["default"]
    if "django_redis" in site["BACKEND"]:
        options, prefix = dict(site.get("OPTIONS", {})), site.get("KEY_PREFIX", "")
    else:
        options, prefix = {}, ""
    options.setdefault("CLIENT_CLASS", "django_redis.client.DefaultClient")
    return RedisCache(url, {"OPTIONS": options, "KEY_PREFIX": prefix})


def redis_sessions(
    *, url: str, sizes: list[int], session_data: dict, samples: int, flush: bool, progress
) -> list[dict]:
    """
    Fill a dedicated Redis database with ``sizes`` sessions in turn (cumulatively) and
    return, at each size, the lookup time and the memory per session.
    """
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        existing = client.dbsize()
    except redis.RedisError as exc:
        raise ScaleUnavailable(f"Redis at {url} is not reachable: {exc}") from exc
    if existing and not flush:
        raise ScaleUnavailable(
            f"Redis db at {url} holds {existing} keys; give it a database of its own, or "
            "pass --flush-scale-db to empty it first"
        )
    client.flushdb()
    cache = _redis_cache(url)

    class ScaleSessionStore(cache_sessions.SessionStore):
        def __init__(self, session_key=None):
            super().__init__(session_key)
            self._cache = cache

    template = ScaleSessionStore()
    value = cache.client.encode(session_data)
    ttl = settings.SESSION_COOKIE_AGE
    baseline = client.info("memory")["used_memory"]
    keys: list[str] = []
    results = []
    try:
        for size in sizes:
            started = time.perf_counter()
            while len(keys) < size:
                pipe = client.pipeline(transaction=False)
                for _ in range(min(REDIS_BATCH, size - len(keys))):
                    key = secrets.token_hex(16)
                    keys.append(key)
                    pipe.set(cache.make_key(template.cache_key_prefix + key), value, ex=ttl)
                pipe.execute()
                progress.tick()
            write_s = time.perf_counter() - started
            used = client.info("memory")["used_memory"] - baseline
            sample = random.sample(keys, min(200, len(keys)))
            memory_usage = [
                client.memory_usage(cache.make_key(template.cache_key_prefix + key), samples=0)
                for key in sample
            ]
            results.append(
                {
                    "sessions": size,
                    "stored": client.dbsize(),
                    "write_s": write_s,
                    "bytes_per_session": used / size,
                    "memory_usage_median_bytes": median(memory_usage),
                    "lookup": _timed_lookups(
                        lambda key: ScaleSessionStore(session_key=key).load(), keys, samples
                    ),
                    "value_bytes": len(value),
                }
            )
    finally:
        client.flushdb()
    return results


def _db_used_bytes() -> int | None:
    """Bytes the database's pages hold now, or None where that cannot be read."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA freelist_count")
            free = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            return (pages - free) * cursor.fetchone()[0]
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_total_relation_size('django_session')")
            return cursor.fetchone()[0]
    return None


def db_sessions_scale(
    *, sizes: list[int], session_data: dict, samples: int, budget_s: float, progress
) -> list[dict]:
    """
    Fill the database session table with ``sizes`` rows in turn and return, at each size,
    the lookup time and the bytes per row; a size whose insert would exceed ``budget_s``
    (estimated from the rate so far) is skipped with the estimate.
    """
    from django.contrib.sessions.models import Session

    data = db_sessions.SessionStore().encode(session_data)
    expire = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    # Rows are written as bulk_create would write them, without building a model
    # instance per row (10^6 of those take minutes): COPY on PostgreSQL, one prepared
    # INSERT over each batch elsewhere.
    quote = connection.ops.quote_name
    table = quote(Session._meta.db_table)
    columns = ", ".join(
        quote(Session._meta.get_field(name).column)
        for name in ("session_key", "session_data", "expire_date")
    )
    expire_value = connection.ops.adapt_datetimefield_value(expire)

    def insert(batch: list[str]) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for key in batch:
                        copy.write_row((key, data, expire))
            else:
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s)",  # noqa: S608 - model names
                    [(key, data, expire_value) for key in batch],
                )

    Session.objects.filter(session_key__startswith=DB_KEY_PREFIX).delete()
    if connection.vendor == "postgresql":
        # Compact the table first: space freed by an earlier run would otherwise be
        # reused by this one's rows and hide their size from pg_total_relation_size.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM FULL django_session")
    baseline = _db_used_bytes()
    keys: list[str] = []
    results = []
    rate = None
    try:
        for size in sizes:
            if rate is not None and (size - len(keys)) / rate > budget_s:
                results.append(
                    {
                        "sessions": size,
                        "skipped": f"would take ~{(size - len(keys)) / rate:.0f} s to write "
                        f"(budget {budget_s:.0f} s)",
                    }
                )
                break
            started = time.perf_counter()
            written = 0
            while len(keys) < size:
                batch = [
                    f"{DB_KEY_PREFIX}{secrets.token_hex(11)}"
                    for _ in range(min(DB_BATCH, size - len(keys)))
                ]
                insert(batch)
                keys.extend(batch)
                written += len(batch)
                progress.tick()
            write_s = time.perf_counter() - started
            rate = written / max(write_s, 1e-6)
            used = _db_used_bytes()
            results.append(
                {
                    "sessions": size,
                    "write_s": write_s,
                    "bytes_per_session": (used - baseline) / size
                    if used is not None and baseline is not None
                    else None,
                    "lookup": _timed_lookups(
                        lambda key: db_sessions.SessionStore(session_key=key).load(),
                        keys,
                        samples,
                    ),
                }
            )
    finally:
        Session.objects.filter(session_key__startswith=DB_KEY_PREFIX).delete()
    return results


def session_data_of_a_real_sign_in(transport, *, email: str, password: str) -> dict | None:
    """
    Sign in through the storefront in process and return the session's contents, so the
    scale figures weigh what this site really stores; None when the storefront is absent.
    """
    from .credentials import Unavailable, session_sign_in

    try:
        headers = session_sign_in(
            transport, email=email, password=password, session_cookie=settings.SESSION_COOKIE_NAME
        )
    except Unavailable:
        return None
    cookie = dict(part.split("=", 1) for part in headers["Cookie"].split("; "))
    store = import_module(settings.SESSION_ENGINE).SessionStore(
        session_key=cookie[settings.SESSION_COOKIE_NAME]
    )
    return dict(store.load()) or None


def token_rows_per_sign_in(transport, *, email: str, password: str) -> dict:
    """
    Sign in through the API, refresh twice, and count the rows each step adds to the
    token tables (simplejwt's outstanding and blacklisted tokens, and the sign-in index).
    """
    import json

    from rest_framework_simplejwt.token_blacklist.models import (
        BlacklistedToken,
        OutstandingToken,
    )

    from accounts.models import SignIn

    from .credentials import Unavailable, token_sign_in
    from .modes import TOKEN_REFRESH_PATH

    def counts() -> dict:
        return {
            "outstanding_tokens": OutstandingToken.objects.count(),
            "blacklisted_tokens": BlacklistedToken.objects.count(),
            "sign_ins": SignIn.objects.count(),
        }

    def delta(before: dict, after: dict) -> dict:
        return {name: after[name] - before[name] for name in before}

    start = counts()
    try:
        _, tokens = token_sign_in(transport, email=email, password=password)
    except Unavailable as exc:
        return {"available": False, "reason": f"n/a (API not present: {exc})"}
    after_sign_in = counts()
    result = {"available": True, "after_sign_in": delta(start, after_sign_in)}
    refresh = tokens.get("refresh")
    refreshes = []
    for _ in range(2):
        answer = transport.request(
            "POST",
            TOKEN_REFRESH_PATH,
            headers={"Content-Type": "application/json"},
            body=json.dumps({"refresh": refresh}).encode(),
        )
        if answer.status != 200:
            result["refresh"] = f"n/a (POST {TOKEN_REFRESH_PATH} answered {answer.status})"
            break
        refreshes.append(answer.json())
        refresh = answer.json().get("refresh", refresh)
    else:
        result["after_two_refreshes"] = delta(start, counts())
    longest = max(
        (len(t) for pair in [tokens, *refreshes] for t in pair.values() if isinstance(t, str)),
        default=0,
    )
    result["longest_token_bytes"] = longest
    return result
