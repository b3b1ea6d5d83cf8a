"""
The storefront's session authentication: signing a user into the session, rebuilding
``request.user`` from it on every request, and enforcing the idle and absolute timeouts.

At sign-in the session receives, besides Django's own ``_auth_user_*`` keys, a snapshot of
the user (the fields pages need) and the state of the sign-in (its ``SignIn`` id, when it
started, when it was last active, whether "remember me" was ticked). A request then builds
``request.user`` from the snapshot without a database query: with sessions in Redis, an
authenticated request costs one Redis GET and nothing else.

Revocation stays instant because every path that ends a sign-in (sign-out, "your devices",
password change or reset, deactivation, the admin, and any other save of a user that changes
its password, ``is_active`` or privileges: accounts/signals.py) goes through
``accounts.services.signin_end``, which deletes the session from the store: a deleted
session is the revocation. Once per ``SESSION_ACTIVITY_THROTTLE_SECONDS`` a request also
records activity (one UPDATE of the ``SignIn`` row, which doubles as a check that it is still
live), re-reads the user row and re-checks ``is_active`` and the password hash, so changes
that send no signal (``QuerySet.update()``, raw SQL) are caught within that period too.

Signed-cookie sessions cannot be deleted server-side: for them that periodic check is the
only revocation, so a copy of the cookie keeps working for up to the throttle period.
"""

import time
from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.db import router
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from . import services
from .models import SignIn, User

SNAPSHOT_KEY = "_auth_user_snapshot"
SIGNIN_STATE_KEY = "_signin"
SNAPSHOT_FIELDS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "is_staff",
    "is_superuser",
    "is_active",
)

IDLE_MESSAGE = "You were signed out after a period of inactivity. Please sign in again."
ABSOLUTE_MESSAGE = "Your sign-in has reached its maximum age. Please sign in again."


def _uses_signed_cookies() -> bool:
    return settings.SESSION_ENGINE.endswith("signed_cookies")


def _indexable_session_key(session) -> str | None:
    # A signed-cookie "session key" is the whole signed cookie and changes on every save;
    # there is nothing in a store to point at.
    return None if _uses_signed_cookies() else session.session_key


def _snapshot(user: User) -> dict[str, Any]:
    return {field: getattr(user, field) for field in SNAPSHOT_FIELDS}


@cache
def _snapshot_field_order() -> tuple[str, ...]:
    # from_db() expects the values in the model's field order.
    return tuple(f.attname for f in User._meta.concrete_fields if f.attname in SNAPSHOT_FIELDS)


def _user_from_snapshot(snapshot: dict[str, Any]) -> User | None:
    # from_db() builds a model instance as if loaded from the database with only these
    # fields: anything else (the password hash, last_login...) is deferred and loaded on
    # first access, and save() writes only the loaded fields.
    names = _snapshot_field_order()
    try:
        values = [snapshot[name] for name in names]
    except KeyError:
        return None
    return User.from_db(router.db_for_read(User), names, values)


def absolute_limit_seconds(*, remember: bool) -> int:
    """Return how long a sign-in may last at most, whatever its activity."""
    if remember:
        return settings.SESSION_REMEMBER_ME_SECONDS
    return settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS


def session_sign_in(*, request, user: User, remember: bool = False) -> SignIn:
    """
    Sign the user into this session on a new session key and index the sign-in.

    Data stored before sign-in (an anonymous cart's token) is kept; a session already
    signed in (as anyone) is ended first and replaced by an empty one.
    """
    session = request.session
    if SESSION_KEY in session:
        session_sign_out(request=request, reason=SignIn.EndReason.SIGNED_OUT)
    # login() cycles the session key (the fixation defence) and rotates the CSRF token.
    auth.login(request, user, backend=getattr(user, "backend", None))
    session.set_expiry(settings.SESSION_REMEMBER_ME_SECONDS if remember else 0)
    return _record_sign_in(request=request, user=user, remember=remember)


def _record_sign_in(*, request, user: User, remember: bool) -> SignIn:
    session = request.session
    sign_in = services.signin_start(
        user=user,
        kind=SignIn.Kind.SESSION,
        lifetime=timedelta(seconds=absolute_limit_seconds(remember=remember)),
        ip_address=services.request_client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        session_key=_indexable_session_key(session),
    )
    now = int(time.time())
    session[SNAPSHOT_KEY] = _snapshot(user)
    session[SIGNIN_STATE_KEY] = {
        "id": str(sign_in.pk),
        "at": now,
        "seen": now,
        "remember": remember,
    }
    request._indexed_session_key = session.session_key
    request._cached_user = user
    return sign_in


def session_sign_out(*, request, reason: str = SignIn.EndReason.SIGNED_OUT) -> None:
    """End this session's sign-in and empty the session (a sign-out)."""
    state = request.session.get(SIGNIN_STATE_KEY)
    if state:
        services.signin_end_by_id(sign_in_id=state["id"], reason=reason)
    auth.logout(request)


def session_signin_id(request) -> str | None:
    """Return the id of the sign-in this session belongs to, or None."""
    state = request.session.get(SIGNIN_STATE_KEY)
    return state["id"] if state else None


def session_password_changed(*, request, user: User) -> None:
    """
    Keep this session signed in after its user changed their password: move it to a new
    key and store the new password hash and a fresh snapshot.
    """
    auth.update_session_auth_hash(request, user)
    request.session[SNAPSHOT_KEY] = _snapshot(user)


def session_user(request) -> User | AnonymousUser:
    """
    Return the user this request's session is signed in as, or AnonymousUser.

    Enforce the idle and absolute timeouts, and record activity at most once per throttle
    period; every other request reads only the session.
    """
    session = request.session
    user_id = session.get(SESSION_KEY)
    if user_id is None:
        return AnonymousUser()
    snapshot = session.get(SNAPSHOT_KEY)
    state = session.get(SIGNIN_STATE_KEY)
    if not snapshot or not state or str(snapshot.get("id")) != str(user_id):
        return _adopt(request)

    now = int(time.time())
    if now - state["seen"] >= settings.SESSION_IDLE_TIMEOUT_SECONDS:
        return _expire(request, state, IDLE_MESSAGE)
    if now - state["at"] >= absolute_limit_seconds(remember=state.get("remember", False)):
        return _expire(request, state, ABSOLUTE_MESSAGE)
    if now - state["seen"] >= settings.SESSION_ACTIVITY_THROTTLE_SECONDS:
        return _touch(request, state, now)
    # A snapshot stored before SNAPSHOT_FIELDS gained a field is refreshed from the database.
    return _user_from_snapshot(snapshot) or _touch(request, state, now)


def _adopt(request) -> User | AnonymousUser:
    # The session was signed in by code that called django.contrib.auth.login() directly
    # (a test client's force_login, a third-party view). Load and verify the user the way
    # Django does, then index the sign-in so it can be listed and revoked from now on.
    user = auth.get_user(request)
    if user.is_authenticated:
        _record_sign_in(request=request, user=user, remember=False)
    return user


def _expire(request, state, message: str) -> AnonymousUser:
    services.signin_end_by_id(sign_in_id=state["id"], reason=SignIn.EndReason.EXPIRED)
    request.session.flush()
    messages.info(request, message, fail_silently=True)
    return AnonymousUser()


def _touch(request, state, now: int) -> User | AnonymousUser:
    session = request.session
    user = User._default_manager.filter(pk=session[SESSION_KEY]).first()
    if user is None or not user.is_active:
        services.signin_end_by_id(sign_in_id=state["id"], reason=SignIn.EndReason.DEACTIVATED)
        session.flush()
        return AnonymousUser()
    if not constant_time_compare(session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
        services.signin_end_by_id(sign_in_id=state["id"], reason=SignIn.EndReason.PASSWORD_CHANGED)
        session.flush()
        return AnonymousUser()
    if not services.signin_touch(sign_in_id=state["id"], seen_at=timezone.now()):
        # Ended elsewhere while this copy of the session lived on: only possible with
        # signed cookies, or if the store's delete was lost.
        session.flush()
        return AnonymousUser()
    session[SNAPSHOT_KEY] = _snapshot(user)
    session[SIGNIN_STATE_KEY] = {**state, "seen": now}
    return user


def session_request_finished(request, *, ended_signin_ids: set[str]) -> None:
    """
    Reconcile the session with the sign-in index at the end of a request.

    A session whose sign-in ended during the request is emptied (rather than written back
    to the store it was just deleted from); a session whose key was cycled (a password
    change) has its index entry moved to the new key.
    """
    session = request.session
    # An untouched session changed nothing, and a key is only cycled by a write.
    if not session.accessed or (not ended_signin_ids and not session.modified):
        return
    state = session.get(SIGNIN_STATE_KEY)
    if not state:
        return
    if state["id"] in ended_signin_ids:
        session.flush()
        return
    key = _indexable_session_key(session)
    if key is None or key == getattr(request, "_indexed_session_key", None):
        return
    if not services.signin_rekey(sign_in_id=state["id"], session_key=key):
        session.flush()
