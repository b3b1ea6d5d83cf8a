"""
``SESSION_CLIENT_CACHE=1`` (opt-in, on the fast path with sessions in Redis): each process
keeps copies of the sessions it has read, and Redis tells it when one changes.

How: Redis's server-assisted client-side caching. One connection per process says
``CLIENT TRACKING ON BCAST PREFIX <the session keys' prefix>`` over RESP3; from then on
Redis pushes an ``invalidate`` message on it for every session key that is written, deleted
or expires, by any client. A copy is served only while that connection is up and answered
its last PING in time (``HEALTH_SECONDS``); a lost connection drops every copy. redis-py's
own client-side caching (``cache_config``) would do this, but it refuses Redis older than
7.4 and caches every read of the pool, not only sessions; this module uses redis-py's
connection and RESP3 parser and keeps the copies itself.

What it buys: an authenticated storefront request whose session this process has seen
sends Redis nothing (``make bench``, the ``session-client-cache`` row).

What it costs, against the fast path's one GET per request:

- **Revocation lag.** A sign-out, a revoked device or a password change on one worker
  deletes the session in Redis at once, but another worker refuses it only once the
  invalidation has reached it. Every request reads what is waiting on the connection
  before it trusts a copy, so on one machine that is the time Redis takes to write the
  message; ``make bench`` measures it from the revoking request's answer to the first
  refused request on every worker (p50, p99, max).
- **A lost network hop.** If Redis stops answering this process without closing the
  connection (a partition), copies are served for up to ``2 × HEALTH_SECONDS`` after the
  last answered PING; then every request goes to Redis, as on the fast path.
- Memory for ``SESSION_CLIENT_CACHE_SIZE`` sessions per process, a PING every
  ``HEALTH_SECONDS`` per process, and one message per session write per process: every
  process hears of every session written anywhere (the broadcast mode), whether it holds
  a copy or not.

Race: a GET sent before a write can be answered after the write's invalidation was read.
Each read in flight is registered under its key; an invalidation of the key voids it, and a
voided read's answer is used for its request but not kept.
"""

import contextlib
import logging
import os
import select
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import RedisError

from accounts.outage import REDIS_DOWN_ERRORS

from .session_store import SessionStore as FastSessionStore

# A PING this often; a copy is trusted only while the last PING was answered within
# twice this long.
HEALTH_SECONDS = 0.5
# Between attempts to reconnect the tracking connection.
RECONNECT_SECONDS = 0.2
# The tracking connection's name in CLIENT LIST, with the process id after it.
CLIENT_NAME = "session-client-cache"
# Redis down, or refusing tracking (a Redis older than 6, a missing permission).
CONNECT_ERRORS = (RedisError, ImproperlyConfigured, OSError)

logger = logging.getLogger(__name__)


class _Read:
    """A GET in flight for ``key``; ``valid`` turns False if the key changes meanwhile."""

    __slots__ = ("key", "valid")

    def __init__(self, key):
        self.key = key
        self.valid = True


class SessionCopies:
    """
    The process's copies of sessions, valid while its tracking connection is healthy.

    Every method takes the lock, and reads what is waiting on the tracking connection
    first, so a request never trusts a copy whose invalidation has already arrived.
    A background thread keeps the connection: it connects, PINGs, reads while the process
    is idle, and reconnects after a failure.
    """

    def __init__(self, pool, prefix: bytes, size: int):
        self.pool = pool
        self.prefix = prefix
        self.size = size
        self._lock = threading.Lock()
        self._copies: OrderedDict[bytes, bytes] = OrderedDict()
        self._reads: dict[bytes, list[_Read]] = {}
        self._connection = None
        self._trusted_until = 0.0
        self._ping_sent_at: float | None = None
        self._stopped = threading.Event()
        # Counters, for the tests and the benchmark's report.
        self.hits = self.misses = self.invalidations = self.connects = 0
        # The first connection is made here, so that the first request can keep what it
        # reads; if Redis is down, the thread keeps trying.
        with contextlib.suppress(*CONNECT_ERRORS):
            self._use(self._connect())
        self._thread = threading.Thread(target=self._keep, name=CLIENT_NAME, daemon=True)
        self._thread.start()

    # --- what the session store calls ----------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        """Return the copy of ``key`` if it can be trusted now, else None."""
        with self._lock:
            self._read_waiting()
            if self._trusted():
                value = self._copies.get(key)
                if value is not None:
                    self._copies.move_to_end(key)
                    self.hits += 1
                    return value
            self.misses += 1
            return None

    def begin_read(self, key: bytes) -> _Read | None:
        """Register a GET about to be sent for ``key``; None if its answer cannot be kept."""
        with self._lock:
            if not self._trusted():
                return None
            read = _Read(key)
            self._reads.setdefault(key, []).append(read)
            return read

    def end_read(self, read: _Read | None, value: bytes | None) -> None:
        """Keep the answer of ``read`` unless its key changed while it was in flight."""
        if read is None:
            return
        with self._lock:
            self._read_waiting()
            reads = self._reads.get(read.key)
            if reads is not None and read in reads:
                reads.remove(read)
                if not reads:
                    del self._reads[read.key]
            if read.valid and value is not None and self._trusted():
                self._copies[read.key] = value
                self._copies.move_to_end(read.key)
                while len(self._copies) > self.size:
                    self._copies.popitem(last=False)

    def forget(self, key: bytes) -> None:
        """This process wrote ``key``: drop its copy now, not when Redis says so."""
        with self._lock:
            self._invalidate(key)

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            self._lose()

    # --- the tracking connection -----------------------------------------------------
    def _trusted(self) -> bool:
        return self._connection is not None and time.monotonic() < self._trusted_until

    def _invalidate(self, key: bytes) -> None:
        self._copies.pop(key, None)
        for read in self._reads.pop(key, ()):
            read.valid = False

    def _drop_all(self) -> None:
        """Drop every copy and void every read in flight."""
        self._copies.clear()
        for reads in self._reads.values():
            for read in reads:
                read.valid = False
        self._reads.clear()

    def _lose(self) -> None:
        """No promise of invalidations any more: drop everything, close the connection."""
        self._drop_all()
        if self._connection is not None:
            self._connection.disconnect()
            self._connection = None

    def _on_push(self, message) -> None:
        # [b"invalidate", [key, ...]], or [b"invalidate", None] after FLUSHDB/FLUSHALL.
        keys = message[1] if len(message) > 1 else None
        if keys is None:
            self.invalidations += len(self._copies) or 1
            self._drop_all()
            return
        for key in keys:
            self.invalidations += 1
            self._invalidate(key if isinstance(key, bytes) else key.encode())

    def _read_waiting(self) -> None:
        """Read every message waiting on the connection (under the lock); never blocks."""
        connection = self._connection
        if connection is None:
            return
        try:
            while connection.can_read(timeout=0):
                # A push goes to _on_push (and None comes back); anything else is the
                # answer to our PING.
                answer = connection.read_response(push_request=True)
                if answer in (b"PONG", "PONG"):
                    self._ping_sent_at = None
                    self._trusted_until = time.monotonic() + 2 * HEALTH_SECONDS
        except REDIS_DOWN_ERRORS:
            self._lose()

    def _connect(self):
        kwargs = {
            **self.pool.connection_kwargs,
            "protocol": 3,
            "client_name": f"{CLIENT_NAME}-{os.getpid()}",
        }
        connection = self.pool.connection_class(**kwargs)
        connection.connect()
        connection._parser.set_invalidation_push_handler(self._on_push)
        connection.send_command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", self.prefix)
        answer = connection.read_response()
        if answer not in (b"OK", "OK"):
            connection.disconnect()
            raise ImproperlyConfigured(f"CLIENT TRACKING answered {answer!r}")
        return connection

    def _use(self, connection) -> None:
        self._connection = connection
        self._ping_sent_at = None
        self._trusted_until = time.monotonic() + 2 * HEALTH_SECONDS
        self.connects += 1

    def _keep(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                connection = self._connection
            if connection is None:
                try:
                    connection = self._connect()
                except CONNECT_ERRORS as exc:
                    # Until it connects, every read goes to Redis, as on the fast path.
                    logger.warning("session client cache: cannot track sessions: %s", exc)
                    self._stopped.wait(RECONNECT_SECONDS)
                    continue
                with self._lock:
                    if self._stopped.is_set():
                        connection.disconnect()
                        return
                    self._use(connection)
            self._watch(connection)
            self._stopped.wait(RECONNECT_SECONDS)

    def _watch(self, connection) -> None:
        """Read and PING on ``connection`` until it is lost or the copies are stopped."""
        next_ping = time.monotonic() + HEALTH_SECONDS
        while not self._stopped.is_set():
            sock = connection._sock
            if sock is None:
                return
            # A socket closed by a request thread meanwhile raises here: seen below.
            with contextlib.suppress(OSError, ValueError):
                select.select([sock], [], [], max(0.0, next_ping - time.monotonic()))
            with self._lock:
                if self._connection is not connection:
                    return
                self._read_waiting()
                if self._connection is not connection:
                    return
                now = time.monotonic()
                if self._ping_sent_at is not None and now - self._ping_sent_at > HEALTH_SECONDS:
                    self._lose()  # no PONG in time: Redis may be out of reach
                    return
                if now >= next_ping:
                    try:
                        connection.send_command("PING")
                    except REDIS_DOWN_ERRORS:
                        self._lose()
                        return
                    if self._ping_sent_at is None:
                        self._ping_sent_at = now
                    next_ping = now + HEALTH_SECONDS


_copies: SessionCopies | None = None
_copies_lock = threading.Lock()


def _forget_in_child() -> None:
    # A forked child (a gunicorn worker of a preloaded app) has no thread of its parent's.
    global _copies, _copies_lock
    _copies = None
    _copies_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)


def session_copies(pool, prefix: bytes) -> SessionCopies:
    """Return the process's copies for ``pool``, starting them on first use."""
    global _copies
    copies = _copies
    if copies is not None and copies.pool is pool:
        return copies
    with _copies_lock:
        if _copies is not None and _copies.pool is not pool:
            _copies.stop()  # the cache was reconfigured (tests)
            _copies = None
        if _copies is None:
            _copies = SessionCopies(pool, prefix, settings.SESSION_CLIENT_CACHE_SIZE)
        return _copies


class SessionStore(FastSessionStore):
    """The fast path's cache store that serves a session this process has seen from memory."""

    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._copy: bytes | None = None
        self._read_ticket: _Read | None = None

    def _session_copies(self) -> SessionCopies:
        client = self._cache.client
        pool = client.get_client(write=False).connection_pool
        copies = _copies
        if copies is not None and copies.pool is pool:
            return copies
        prefix = client.make_key(self.cache_key_prefix)
        if not client.make_key(self.cache_key_prefix + "x").startswith(prefix):
            raise ImproperlyConfigured(
                "SESSION_CLIENT_CACHE needs the session keys to share a prefix in Redis; "
                "the cache's KEY_FUNCTION does not keep one."
            )
        return session_copies(pool, str(prefix).encode())

    def _key(self) -> bytes:
        return str(self._cache.client.make_key(self.cache_key)).encode()

    def prefetch(self) -> None:
        if self.session_key is None or self._pending is not None or self._copy is not None:
            return
        copies = self._session_copies()
        key = self._key()
        self._copy = copies.get(key)
        if self._copy is None:
            self._read_ticket = copies.begin_read(key)
            super().prefetch()

    def discard_prefetch(self) -> None:
        super().discard_prefetch()
        self._copy = None
        ticket, self._read_ticket = self._read_ticket, None
        if ticket is not None:
            self._session_copies().end_read(ticket, None)

    def _read_raw(self):
        copy, self._copy = self._copy, None
        if copy is not None:
            return copy
        ticket, self._read_ticket = self._read_ticket, None
        copies = self._session_copies()
        if ticket is None and self._pending is None:
            key = self._key()
            copy = copies.get(key)
            if copy is not None:
                return copy
            ticket = copies.begin_read(key)
        value = None
        try:
            value = super()._read_raw()
        finally:
            copies.end_read(ticket, value)
        return value

    def _forget_copy(self, session_key) -> None:
        if session_key is not None:
            key = self._cache.client.make_key(self.cache_key_prefix + session_key)
            self._session_copies().forget(str(key).encode())

    def save(self, must_create=False):
        self._forget_copy(self.session_key)
        try:
            return super().save(must_create)
        finally:
            self._forget_copy(self.session_key)

    def delete(self, session_key=None):
        key = session_key if session_key is not None else self.session_key
        self._forget_copy(key)
        try:
            return super().delete(session_key)
        finally:
            self._forget_copy(key)
