"""
The cache-backed session engine (``SESSION_BACKEND=cache``), told apart from "no session"
when the store is down.

Django's own cache engine turns any error while reading a session into an empty session:
during a Redis outage every signed-in visitor would silently look signed out, private
pages would redirect to the login page, and the session cookie would be deleted (so the
visitor stays signed out after Redis is back). This engine raises ``SessionStoreUnavailable``
instead, which ``accounts.middleware.GuardedSessionMiddleware`` answers with a 503 page;
pages marked ``serve_signed_out_during_outage`` get an empty session that is never saved.

After the first failure the session does not go back to the network for the rest of the
request: it stays empty, and saving or deleting it raises at once.
"""

import os
import threading

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

from .outage import REDIS_DOWN_ERRORS, SessionStoreUnavailable

_threads = threading.local()


def _session_connection(redis_client):
    """
    Return this thread's connection for session reads, made with the settings of the
    cache's own pool (server, database, password, timeouts, TLS, Sentinel) but held
    outside it. A connection the server has closed meanwhile (a Redis restart) or one
    left with an unread reply is dropped here and reconnects on its next command.
    """
    pool = redis_client.connection_pool
    held = getattr(_threads, "session_connection", None)
    if held is None or held[0] is not pool or held[1].pid != os.getpid():
        held = _threads.session_connection = (
            pool,
            pool.connection_class(**pool.connection_kwargs),
        )
    connection = held[1]
    # As the pool does before handing out a connection: can_read() connects a new one,
    # polls a live one for stray bytes, and raises on one the server has closed.
    try:
        stale = connection.can_read()
    except REDIS_DOWN_ERRORS:
        stale = True
    if stale:
        connection.disconnect()
    return connection


class SessionStore(CacheSessionStore):
    """Django's cache session store that raises SessionStoreUnavailable when the cache is down."""

    def __init__(self, session_key=None):
        super().__init__(session_key)
        # Set by the middleware for pages that may be served signed out during an outage.
        self.serve_signed_out_if_unavailable = False
        self.unavailable = False
        # A GET sent by prefetch() and not read yet, or the error that sending it raised.
        self._pending = None
        self._prefetch_error = None

    def _failed(self, exc: Exception) -> SessionStoreUnavailable:
        self.unavailable = True
        return SessionStoreUnavailable(f"The session store is unavailable: {exc}")

    def _fail_fast(self) -> None:
        if self.unavailable:
            raise SessionStoreUnavailable("The session store is unavailable.")

    def load(self):
        if self.unavailable:
            return {}
        try:
            session_data = self._read()
        except REDIS_DOWN_ERRORS as exc:
            error = self._failed(exc)
            if self.serve_signed_out_if_unavailable:
                # Keep the session key: the cookie must survive the outage.
                return {}
            raise error from exc
        except Exception:
            # As Django's engine does: some caches raise on keys they find invalid.
            session_data = None
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}

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

    def _send_get(self):
        # What cache.get() does, on this thread's session connection and without
        # redis-py's per-command machinery (pool checkout and release, retry wrapper,
        # observability hooks): this GET is the only I/O of an authenticated storefront
        # request, and that machinery costs more CPU than the GET itself.
        client = self._cache.client
        connection = _session_connection(client.get_client(write=False))
        try:
            connection.send_command("GET", client.make_key(self.cache_key))
        except BaseException:
            connection.disconnect()
            raise
        return connection

    @staticmethod
    def _receive(connection):
        try:
            return connection.read_response()
        except BaseException:
            # A half-read reply must not reach the next command on this connection.
            connection.disconnect()
            raise

    def _read(self):
        if self._prefetch_error is not None:
            exc, self._prefetch_error = self._prefetch_error, None
            raise exc
        sent, self._pending = self._pending, None
        value = self._receive(sent if sent is not None else self._send_get())
        # Decoded by django-redis as cache.get() would (its serializer and compressor).
        return None if value is None else self._cache.client.decode(value)

    def exists(self, session_key):
        self._fail_fast()
        try:
            return super().exists(session_key)
        except REDIS_DOWN_ERRORS as exc:
            raise self._failed(exc) from exc

    def save(self, must_create=False):
        self._fail_fast()
        try:
            return super().save(must_create)
        except REDIS_DOWN_ERRORS as exc:
            raise self._failed(exc) from exc

    def delete(self, session_key=None):
        self._fail_fast()
        try:
            return super().delete(session_key)
        except REDIS_DOWN_ERRORS as exc:
            raise self._failed(exc) from exc

    def check_available(self) -> None:
        """
        Raise SessionStoreUnavailable unless the store answers now: load this session (the
        request would anyway), or, without a session yet, ask the store about any key.
        """
        if self.session_key is not None:
            self._get_session()
        else:
            self.exists("availability-check")
