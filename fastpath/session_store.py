"""
The fast path's cache session engine: ``accounts.session_store`` (Django's cache engine,
outage-aware) whose one GET per request is sent early and on a connection of its own.

- ``prefetch()``: ``fastpath.sessions.PrefetchingSessionMiddleware`` sends the session's GET
  as soon as it has a well-formed cookie; Redis answers while Django runs the other
  middleware and resolves the URL, and the answer is read when the session is first used.
- The GET goes over a connection made with the cache pool's own settings but held outside
  the pool, without redis-py's per-command machinery (pool checkout and release, retry
  wrapper, observability hooks), which costs more CPU than the GET itself. A request takes
  one from the process's few idle ones and gives it back once the answer is read, so a
  process has as many as it ever served requests at once: one per sync worker, and under
  ASGI, where each request runs on a thread of its own, no more than were concurrent (a
  connection per thread would open one per request there).

What it costs: a few extra connections per process, and code that knows redis-py's
connection API. Every other command (save, delete, exists) is Django's, through the pool.
"""

import contextlib
import os
import threading

from django_redis.exceptions import CompressorError
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts.outage import REDIS_DOWN_ERRORS
from accounts.session_store import SessionStore as OutageAwareCacheStore


class _HeldConnection:
    """
    A connection for session reads, made with the settings of the cache's own pool
    (server, database, password, timeouts, TLS, Sentinel) but held outside it, by one
    request at a time: from a GET's send until its answer is read. One whose answer was
    never read (a request that failed in between) is never given back, so a stray reply
    can never answer another request.

    ``answered`` is True while the connection is open and has answered; a reused
    connection that fails may only be stale (the server closed it meanwhile) and is worth
    one more try; a new one that fails means the server is unreachable.
    """

    __slots__ = ("pool", "connection", "answered")

    def __init__(self, pool):
        self.pool = pool
        self.connection = pool.connection_class(**pool.connection_kwargs)
        self.answered = False

    def failed(self) -> None:
        self.connection.disconnect()
        self.answered = False


class _IdleConnections:
    """The process's held connections that no request is using, newest first."""

    # More idle than this are closed: a burst under ASGI leaves no crowd of them open.
    KEEP = 16

    def __init__(self):
        self._lock = threading.Lock()
        self._idle: list[_HeldConnection] = []

    def take(self, pool) -> _HeldConnection:
        with self._lock:
            while self._idle:
                held = self._idle.pop()
                if held.pool is pool:
                    return held
                held.connection.disconnect()  # the cache was reconfigured (tests)
        return _HeldConnection(pool)

    def give_back(self, held: _HeldConnection) -> None:
        with self._lock:
            if len(self._idle) < self.KEEP:
                self._idle.append(held)
                return
        held.connection.disconnect()

    def forget(self) -> None:
        """In a forked child (a gunicorn worker of a preloaded app): not its parent's."""
        self._lock = threading.Lock()
        self._idle = []


_idle = _IdleConnections()
os.register_at_fork(after_in_child=_idle.forget)


class SessionStore(OutageAwareCacheStore):
    """The outage-aware cache store, with its GET prefetched on a held connection."""

    def __init__(self, session_key=None):
        super().__init__(session_key)
        # A GET sent by prefetch() and not read yet, or the error that sending it raised.
        self._pending = None
        self._prefetch_error = None
        # Whether the connection of the last GET sent had answered before (see _read).
        self._sent_on_reused = False

    def prefetch(self) -> None:
        """
        Send the GET for this session now; its answer is read when the session is first
        used. Redis answers while Django runs the other middleware and resolves the URL,
        so the request does not sit waiting for the one round trip it makes (the middleware
        calls this as soon as it has a well-formed session cookie). An error is kept for
        load() to raise, where the outage rules apply.
        """
        if self.session_key is None or self._pending is not None:
            return
        try:
            self._pending = self._send_get()
        except REDIS_DOWN_ERRORS as exc:
            self._prefetch_error = exc

    def discard_prefetch(self) -> None:
        """Read and drop an answer the request never asked for, freeing its connection."""
        if self._pending is not None:
            try:
                self._receive(self._pending)
            except REDIS_DOWN_ERRORS:
                pass
            finally:
                self._pending = None

    def _send_get(self) -> _HeldConnection:
        # What cache.get() does, on a held connection and without redis-py's per-command
        # machinery (pool checkout and release, retry wrapper, observability hooks): this
        # GET is the only I/O of an authenticated storefront request, and that machinery
        # costs more CPU than the GET itself.
        client = self._cache.client
        held = _idle.take(client.get_client(write=False).connection_pool)
        connection = held.connection
        self._sent_on_reused = held.answered
        try:
            # Connected through the connection's own connect(): a Sentinel-managed one asks
            # the Sentinels where the primary is there (send_packed_command alone would
            # dial the service name as a host). Not called once connected: even as a no-op
            # it goes through redis-py's retry wrapper.
            if connection._sock is None:
                connection.connect()
            connection.send_packed_command(
                connection.pack_command("GET", client.make_key(self.cache_key)),
                check_health=False,
            )
        except BaseException:
            held.failed()
            _idle.give_back(held)
            raise
        return held

    @staticmethod
    def _receive(held: _HeldConnection):
        try:
            value = held.connection.read_response()
            held.answered = True
        except BaseException:
            # A half-read reply must not reach the next command on this connection.
            held.failed()
            raise
        finally:
            _idle.give_back(held)
        return value

    def _read(self):
        value = self._read_raw()
        return None if value is None else self._decode(value)

    def _decode(self, value: bytes):
        """Decode as cache.get() would, with django-redis's compressor and serializer."""
        client = self._cache.client
        compressor = getattr(client, "_compressor", None)
        serializer = getattr(client, "_serializer", None)
        if compressor is None or serializer is None:
            return client.decode(value)
        # Not client.decode(): it tries int(value) first, and the ValueError it raises
        # formats the whole pickled session into its message, which costs more than the
        # unpickling (about 45 µs a request here). A session is a dict, never an int.
        with contextlib.suppress(CompressorError):
            value = compressor.decompress(value)
        return serializer.loads(value)

    def _read_raw(self):
        """The session's value as Redis sent it: the prefetched GET's answer, or a new GET's."""
        sent, self._pending = self._pending, None
        error, self._prefetch_error = self._prefetch_error, None
        try:
            if error is not None:
                raise error
            value = self._receive(sent if sent is not None else self._send_get())
        except RedisConnectionError:
            # A connection the server closed since its last use (a restart, an idle
            # timeout) fails only when used: try once more, on a new connection. A new
            # connection that fails means the server is down: no second wait.
            if not self._sent_on_reused:
                raise
            value = self._receive(self._send_get())
        return value
