"""
The JWT half of the fast path: what ``AUTH_FAST_PATH=1`` changes in how the API checks an
access token. api.token_checks imports this module on the fast path only; with the switch
off it is never imported.

What it changes against stock simplejwt:

- **Verification is remembered.** Stock, every request verifies the token's signature and
  claims (simplejwt's ``Token.__init__``: PyJWT's decode, then the type, ``jti``, issuer
  and audience checks). Here each process remembers the tokens it has verified, by their
  exact text, until their ``exp`` plus the leeway (``VerifiedTokenCache``, at most
  ``JWT_VERIFIED_TOKEN_CACHE_SIZE`` tokens, oldest out first; 0 turns it off). Whether a
  token's signature and claims are valid depends only on its bytes, the key and the
  clock, and only the clock moves, so a token verified once stays valid until its expiry,
  which is checked again on every use. Only tokens that passed the stock verification are
  remembered, so its rules hold here unchanged: a token for another audience (RFC 8707;
  ``aud`` must be exactly the API's own) is refused on every request, never cached. A
  client sends the same access token with every request of its lifetime, so each process
  pays for the signature once instead of on every request.
- **The user is loaded by a compiled query.** Stock, ``User._default_manager.get(pk=...)``
  builds a queryset, compiles it to SQL and works out the column converters on every
  request. Here that is done once per database connection (``_UserLookup``): the ORM's own
  SQL for ``User._default_manager.filter(pk=...)``, the fields in column order and the
  backend's converters for them, applied to the row as the compiler applies them. The user
  is built as Django rebuilds an unpickled instance, without ``Model.__init__()``, which
  walks every field (unless something listens to ``pre_init``/``post_init`` for it).

What it buys: the signature check is paid once per token per process instead of on every
request (the benchmark's micro-costs give its price by algorithm), and the user
query costs little more than running it: building the queryset, compiling it and working
out the converters cost about three times what running the query does. The benchmark
measures both paths (docs/comparison.md, "The fast paths").

What it costs:

- Only verification results are cached, never revocation state. The checks whose answer
  can change run on every request as on the stock path: expiry, the denylist (one Redis
  GET, also for a token the denylist has already refused) and, in ``db`` mode, the user's
  row (gone, inactive, password changed). What the stock path refuses at once (a
  denylisted sign-in; in ``db`` mode a deactivated user or a changed password), the fast
  path refuses at once; what the stock path lets live until ``exp`` lives as long here.
- Memory: up to ``JWT_VERIFIED_TOKEN_CACHE_SIZE`` parsed tokens per process.
- A new signing key, or a retired one, reaches a running process only through a restart
  (which empties the cache), as it does on the stock path; the cache forgets everything
  when the key settings change under ``override_settings``.
- The compiled lookup bypasses the QuerySet: it runs the one query the default manager
  would, through the connection's cursor (still logged and counted), and nothing else
  (no ``select_related``, no custom ``get()``), and reads the database the router names.
"""

import threading
import time
import weakref
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, router
from django.test.signals import setting_changed
from rest_framework_simplejwt.tokens import Token

from .models import instance_from_db


class VerifiedTokenCache:
    """
    Access tokens this process has verified, by their exact text, until they expire.

    At most ``settings.JWT_VERIFIED_TOKEN_CACHE_SIZE`` entries are kept (oldest out first);
    0 keeps none.
    """

    def __init__(self):
        self._tokens: dict[bytes, tuple[Token, float]] = {}
        self._lock = threading.Lock()

    def get(self, raw_token: bytes) -> Token | None:
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

    def add(self, raw_token: bytes, token: Token) -> None:
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


def verified_once(raw_token: bytes, *, verify: Callable[[bytes], Token]) -> Token:
    """
    Return ``verify(raw_token)``; a token this process verified before, and that has not
    expired since, is returned from the cache without verifying it again.
    """
    token = verified_access_tokens.get(raw_token)
    if token is None:
        token = verify(raw_token)
        verified_access_tokens.add(raw_token, token)
    return token


def _forget_tokens_on_settings_change(*, setting, **kwargs):
    # A new or retired key (api.keys.KEY_SETTINGS, named here: the fast path does not
    # import the API), or a new size: nothing verified under the old settings may be served.
    if setting in (
        "SIMPLE_JWT",
        "JWT_PREVIOUS_SIGNING_KEYS",
        "JWT_PREVIOUS_PUBLIC_KEYS",
        "JWT_VERIFIED_TOKEN_CACHE_SIZE",
    ):
        verified_access_tokens.clear()


setting_changed.connect(_forget_tokens_on_settings_change)


class _UserLookup:
    """
    ``User._default_manager.filter(pk=...)`` compiled once for one database connection: the
    ORM's own SQL, the fields in column order and the backend's converters for those
    columns. Kept per connection object (connections are per thread), and forgotten with it.
    """

    def __init__(self, db_connection, user_model):
        compiler = user_model._default_manager.filter(pk=0).query.get_compiler(
            connection=db_connection
        )
        self.user_model = user_model
        self.sql, _params = compiler.as_sql()
        columns = [column for column, _sql, _alias in compiler.select]
        self.field_names = [column.target.attname for column in columns]
        self.converters = list(compiler.get_converters(columns).items())

    def get(self, db_connection, pk: int):
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
        return instance_from_db(self.user_model, db_connection.alias, self.field_names, values)


_user_lookups = weakref.WeakKeyDictionary()  # database connection -> _UserLookup


def user_by_pk(pk: int):
    """Return the user with this primary key, or None (one query, compiled once)."""
    user_model = get_user_model()
    db_connection = connections[router.db_for_read(user_model)]
    lookup = _user_lookups.get(db_connection)
    if lookup is None or lookup.user_model is not user_model:
        lookup = _user_lookups[db_connection] = _UserLookup(db_connection, user_model)
    return lookup.get(db_connection, pk)
