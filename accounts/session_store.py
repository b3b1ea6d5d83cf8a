"""
The cache session engine of ``SESSION_BACKEND=cache``: Django's own
(``django.contrib.sessions.backends.cache``) with one difference, an unreachable store is
not mistaken for "no session".

Django's engine turns any error while reading a session into an empty session: during a
Redis outage every signed-in visitor would silently look signed out, private pages would
redirect to the login page, and the session cookie would be deleted (so the visitor stays
signed out after Redis is back). This engine raises ``SessionStoreUnavailable`` instead,
which the site answers with a 503 page (accounts/outage.py); pages marked
``serve_signed_out_during_outage`` get an empty session that is never saved.

After the first failure the session does not go back to the network for the rest of the
request: it stays empty, and saving or deleting it raises at once.
"""

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

from .outage import REDIS_DOWN_ERRORS, SessionStoreUnavailable


class SessionStore(CacheSessionStore):
    """Django's cache session store that raises SessionStoreUnavailable when the cache is down."""

    def __init__(self, session_key=None):
        super().__init__(session_key)
        # Set by the middleware for pages that may be served signed out during an outage.
        self.serve_signed_out_if_unavailable = False
        self.unavailable = False

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

    def _read(self):
        return self._cache.get(self.cache_key)

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
