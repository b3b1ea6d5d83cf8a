"""
The fast path's storefront authentication: ``request.user`` from a snapshot kept in the
session, and the session's one Redis GET sent early.

What it changes against stock Django:

- ``SnapshotAuthenticationMiddleware`` replaces ``AuthenticationMiddleware``. Stock loads
  the user row on every request (one query) and checks ``is_active`` and the password-hash
  digest. Here the session keeps a snapshot of the fields pages need (``SNAPSHOT_FIELDS``)
  and ``request.user`` is built from it without a query; the row is read, with Django's own
  ``auth.get_user()`` and so every stock check, when the snapshot is missing or older than
  ``SESSION_ACTIVITY_THROTTLE_SECONDS``. Other fields (the hash, ``last_login``...) are
  deferred and load on first access, as with ``.only()``.
- ``PrefetchingSessionMiddleware`` replaces ``SessionMiddleware`` and, with the cache engine,
  ``fastpath.session_store`` replaces ``accounts.session_store``: the session's GET is sent
  as soon as the cookie is read, and answered while the rest of the middleware runs.

What it buys: an authenticated storefront request with sessions in Redis costs one Redis
GET and no query (`make bench`, the ``-stock`` and ``-fast`` rows).

What it costs: a change that sends no signal (``QuerySet.update()``, raw SQL) of a user's
password or ``is_active`` is seen within ``SESSION_ACTIVITY_THROTTLE_SECONDS`` instead of on
the next request. Every save through the ORM, whoever makes it, still ends the sign-ins at
once (accounts/signals.py deletes the sessions).
"""

import time
from functools import cache, partial
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import router
from django.utils.functional import SimpleLazyObject

from accounts.middleware import loaded_user
from accounts.models import User
from config.errors import API_PATH_PREFIX

from .models import instance_from_db

SNAPSHOT_KEY = "_auth_user_snapshot"
SNAPSHOT_FIELDS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "is_staff",
    "is_superuser",
    "is_active",
)


class PrefetchingSessionMiddleware(SessionMiddleware):
    """Django's SessionMiddleware that sends the session's GET as soon as it can."""

    def process_request(self, request):
        super().process_request(request)
        session = request.session
        if (
            session.session_key is not None
            and hasattr(session, "prefetch")
            and not request.path_info.startswith(API_PATH_PREFIX)
        ):
            # The API never reads the session; everything else reads it first thing.
            session.prefetch()

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if hasattr(session, "discard_prefetch"):
            session.discard_prefetch()
        return super().process_response(request, response)


def _snapshot(user: User) -> dict[str, Any]:
    return {field: getattr(user, field) for field in SNAPSHOT_FIELDS}


@cache
def _snapshot_field_order() -> tuple[str, ...]:
    # from_db() expects the values in the model's field order.
    return tuple(f.attname for f in User._meta.concrete_fields if f.attname in SNAPSHOT_FIELDS)


def _unchanged_since(user: User, snapshot: dict[str, Any]) -> bool:
    # A user built from this snapshot holds the very objects it was built from, until
    # something assigns a field: an identity test per field, no comparison of values.
    # A snapshot with a key it no longer has (SNAPSHOT_FIELDS changed) is compared, and so
    # rewritten without it.
    if len(snapshot) != len(SNAPSHOT_FIELDS) + 1:  # the fields and "at"
        return False
    loaded = user.__dict__
    return all(name in snapshot and loaded.get(name) is snapshot[name] for name in SNAPSHOT_FIELDS)


def _user_from_snapshot(snapshot: dict[str, Any]) -> User | None:
    names = _snapshot_field_order()
    try:
        values = [snapshot[name] for name in names]
    except KeyError:
        return None  # Stored before SNAPSHOT_FIELDS gained a field: reload the row.
    return instance_from_db(User, router.db_for_read(User), names, values)


def snapshot_user(request) -> User | AnonymousUser:
    """Return the session's user from its snapshot, or from the row when the snapshot is due."""
    session = request.session
    user_id = session.get(SESSION_KEY)
    if user_id is None:
        return AnonymousUser()
    snapshot = session.get(SNAPSHOT_KEY)
    now = int(time.time())
    if (
        snapshot
        and str(snapshot.get("id")) == str(user_id)
        and now - snapshot.get("at", 0) < settings.SESSION_ACTIVITY_THROTTLE_SECONDS
    ):
        user = _user_from_snapshot(snapshot)
        if user is not None:
            return user
    user = auth.get_user(request)  # Django's load: the row, is_active, the password digest.
    if user.is_authenticated:
        session[SNAPSHOT_KEY] = {**_snapshot(user), "at": now}
    else:
        session.pop(SNAPSHOT_KEY, None)
    return user


def _get_user(request):
    if not hasattr(request, "_cached_user"):
        request._cached_user = snapshot_user(request)
    return request._cached_user


async def _auser(request):
    return await sync_to_async(_get_user)(request)


class SnapshotAuthenticationMiddleware(AuthenticationMiddleware):
    """
    ``AuthenticationMiddleware`` with ``request.user`` built from the session's snapshot.

    A subclass, so that the admin's system check (which looks for AuthenticationMiddleware)
    holds. After the view, the snapshot is brought in line with the user the request
    signed in or changed (a sign-in, an edited name), so it never shows stale fields.
    """

    def process_request(self, request):
        super().process_request(request)  # Django's checks; its lazy user is replaced below
        request.user = SimpleLazyObject(lambda: _get_user(request))
        request.auser = partial(_auser, request)

    @staticmethod
    def _loaded_user(request) -> User | None:
        # The user this request loaded (the session's, or an API token's), if any.
        user = loaded_user(request)
        return user if isinstance(user, User) else None

    def process_response(self, request, response):
        user = self._loaded_user(request)
        session = getattr(request, "session", None)
        if (
            user is not None
            and session is not None
            and str(session.get(SESSION_KEY)) == str(user.pk)
        ):
            old = session.get(SNAPSHOT_KEY) or {}
            if _unchanged_since(user, old):
                return response
            fresh = _snapshot(user)
            if {k: v for k, v in old.items() if k != "at"} != fresh:
                session[SNAPSHOT_KEY] = {**fresh, "at": old.get("at", int(time.time()))}
        return response
