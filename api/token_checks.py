"""
What the API checks of an access token on each request: its signature, claims and expiry
(remembered per process once verified); with ``JWT_ACCESS_DENYLIST``, whether its sign-in
has ended; in ``db`` mode (and wherever a view needs the account), the user it names.
"""

import threading
import time
import weakref

from django.conf import settings
from django.core.cache import cache
from django.db import connections, router
from django.test.signals import setting_changed
from rest_framework_simplejwt.exceptions import TokenError

from accounts.models import User

from .tokens import SID_CLAIM, USER_ID_CLAIM, AccessToken, issued_under_current_password


class VerifiedTokenCache:
    """
    Access tokens this process has verified, by their exact text, until they expire.

    Whether a token's signature and claims are valid is a function of its bytes, the key
    and the clock, and only the clock moves: once verified, the same text stays valid until
    its ``exp`` (plus leeway), which is checked again on every use. A client sends the same
    access token with every request of its lifetime, so each process verifies it once
    instead of on every request. This is what "stateless" buys, and only tokens can have
    it: a session must be read from its store on every request, or its revocation would
    not be instant. The checks that can change their answer (the denylist, the user's row
    in "db" mode) are not cached. At most ``settings.JWT_VERIFIED_TOKEN_CACHE_SIZE``
    entries are kept (oldest out first); 0 verifies every request.
    """

    def __init__(self):
        self._tokens: dict[bytes, tuple[AccessToken, float]] = {}
        self._lock = threading.Lock()

    def get(self, raw_token: bytes) -> AccessToken | None:
        """Return the verified token for this text, or None if unknown or now expired."""
        entry = self._tokens.get(raw_token)
        if entry is None:
            return None
        token, valid_until = entry
        if time.time() < valid_until:
            return token
        with self._lock:
            self._tokens.pop(raw_token, None)
        return None

    def add(self, raw_token: bytes, token: AccessToken) -> None:
        """Remember a token that has just passed every check."""
        size = settings.JWT_VERIFIED_TOKEN_CACHE_SIZE
        if size <= 0:
            return
        leeway = token.token_backend.get_leeway().total_seconds()
        with self._lock:
            while len(self._tokens) >= size:
                del self._tokens[next(iter(self._tokens))]
            self._tokens[raw_token] = (token, token["exp"] + leeway)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


verified_access_tokens = VerifiedTokenCache()


def _forget_tokens_on_settings_change(*, setting, **kwargs):
    if setting in ("SIMPLE_JWT", "JWT_VERIFIED_TOKEN_CACHE_SIZE"):
        verified_access_tokens.clear()


setting_changed.connect(_forget_tokens_on_settings_change)


def access_token_verified(raw_token: bytes) -> AccessToken:
    """
    Return the access token after checking its signature, claims and expiry (raise
    TokenError otherwise); a token this process verified before costs a dictionary lookup.
    """
    token = verified_access_tokens.get(raw_token)
    if token is None:
        token = AccessToken(raw_token)
        verified_access_tokens.add(raw_token, token)
    return token


def denylist_key(sign_in_id) -> str:
    """Return the cache key that refuses the access tokens of an ended sign-in."""
    return f"jwt-deny:{sign_in_id}"


def access_token_denied(token: AccessToken) -> bool:
    """Return whether the token's sign-in is on the denylist (one Redis GET)."""
    return cache.get(denylist_key(token[SID_CLAIM])) is not None


def signins_denied(*, sign_in_ids) -> set[str]:
    """Return, as strings, which of these sign-ins are on the access-token denylist now."""
    keys = {denylist_key(sign_in_id): str(sign_in_id) for sign_in_id in sign_in_ids}
    if not keys:
        return set()
    return {keys[key] for key in cache.get_many(list(keys))}


class _UserLookup:
    """
    ``User.objects.filter(pk=...)`` compiled once for one database connection: the ORM's
    own SQL, the fields in column order and the backend's converters for those columns.

    Building the queryset, compiling it and working out the converters cost several times
    what running the query does (see docs/comparison.md, "The fast paths"); a JWT request
    in ``db`` mode runs it on every request. Kept per connection object (connections are
    per thread), and forgotten with it.
    """

    def __init__(self, db_connection):
        compiler = User._default_manager.filter(pk=0).query.get_compiler(connection=db_connection)
        self.sql, _params = compiler.as_sql()
        columns = [column for column, _sql, _alias in compiler.select]
        self.field_names = [column.target.attname for column in columns]
        self.converters = list(compiler.get_converters(columns).items())

    def get(self, db_connection, pk: int) -> User | None:
        with db_connection.cursor() as cursor:
            cursor.execute(self.sql, [pk])
            row = cursor.fetchone()
        if row is None:
            return None
        # What the compiler's apply_converters() does to each row.
        values = list(row)
        for position, (converters, expression) in self.converters:
            value = values[position]
            for converter in converters:
                value = converter(value, expression, db_connection)
            values[position] = value
        return User.from_db(db_connection.alias, self.field_names, values)


_user_lookups = weakref.WeakKeyDictionary()  # database connection -> _UserLookup


def _user_by_pk(using: str, pk: int) -> User | None:
    db_connection = connections[using]
    lookup = _user_lookups.get(db_connection)
    if lookup is None:
        lookup = _user_lookups[db_connection] = _UserLookup(db_connection)
    return lookup.get(db_connection, pk)


def access_token_user(token: AccessToken) -> User:
    """
    Return the active user the access token names (one query); raise TokenError if the
    user is gone or inactive, or has changed password since the token was issued.
    """
    user = _user_by_pk(router.db_for_read(User), int(token[USER_ID_CLAIM]))
    if user is None:
        raise TokenError("User does not exist")
    if not user.is_active:
        raise TokenError("User is inactive")
    if not issued_under_current_password(token, user):
        raise TokenError("The user's password has been changed")
    return user
