"""
The storefront's sign-ins on top of Django's sessions: signing a user into the session,
indexing the sign-in (``SignIn``, "your devices"), and the idle and absolute timeouts.

Django does the authentication itself: ``django.contrib.auth.login()`` stores the user's id
and password-hash digest in the session, and ``AuthenticationMiddleware`` loads the user
row on every request and refuses the session when the user is gone, inactive or has a new
password. ``accounts.middleware.SignInMiddleware`` adds the rest through ``session_user()``:
the session also holds the state of its sign-in (its ``SignIn`` id, when it started, when it
was last active, whether "remember me" was ticked); the timeouts are checked from it, and
activity is recorded at most once per ``SESSION_ACTIVITY_THROTTLE_SECONDS`` (one UPDATE of
the ``SignIn`` row, which doubles as a check that it is still live).

Revocation is instant because every path that ends a sign-in (sign-out, "your devices",
password change or reset, deactivation, the admin, any save of a user that changes its
password, ``is_active`` or privileges: accounts/signals.py) goes through
``accounts.services.sign_in_end``, which deletes the session from the store.

Signed-cookie sessions cannot be deleted server-side: a copy of the cookie keeps working
until the user row refuses it (a new password, a deactivation) or, for any other revocation,
until the next activity check finds its ``SignIn`` ended, within the throttle period.
"""

import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from . import services
from .models import SignIn, User

SIGN_IN_STATE_KEY = "_signin"

IDLE_MESSAGE = "You were signed out after a period of inactivity. Please sign in again."
ABSOLUTE_MESSAGE = "Your sign-in has reached its maximum age. Please sign in again."


def _uses_signed_cookies() -> bool:
    return settings.SESSION_ENGINE.endswith("signed_cookies")


def _indexable_session_key(session) -> str | None:
    # A signed-cookie "session key" is the whole signed cookie and changes on every save;
    # there is nothing in a store to point at.
    return None if _uses_signed_cookies() else session.session_key


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
    sign_in = services.sign_in_start(
        user=user,
        kind=SignIn.Kind.SESSION,
        lifetime=timedelta(seconds=absolute_limit_seconds(remember=remember)),
        ip_address=services.request_client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        session_key=_indexable_session_key(session),
    )
    now = int(time.time())
    session[SIGN_IN_STATE_KEY] = {
        "id": str(sign_in.pk),
        "at": now,
        "seen": now,
        "remember": remember,
    }
    request._indexed_session_key = session.session_key
    return sign_in


def session_sign_out(*, request, reason: str = SignIn.EndReason.SIGNED_OUT) -> None:
    """End this session's sign-in and empty the session (a sign-out)."""
    state = request.session.get(SIGN_IN_STATE_KEY)
    if state:
        services.sign_in_end_by_id(sign_in_id=state["id"], reason=reason)
    auth.logout(request)


def session_sign_in_id(request) -> str | None:
    """Return the id of the sign-in this session belongs to, or None."""
    state = request.session.get(SIGN_IN_STATE_KEY)
    return state["id"] if state else None


def session_password_changed(*, request, user: User) -> None:
    """
    Keep this session signed in after its user changed their password: move it to a new
    key and store the new password hash (Django's ``update_session_auth_hash``).
    """
    auth.update_session_auth_hash(request, user)


def session_user(request, load_user: Callable[[], User | AnonymousUser] | None = None):
    """
    Return the user this request's session is signed in as, or AnonymousUser.

    ``load_user`` is how the authentication middleware loads the session's user (Django's
    ``auth.get_user()`` by default: the row, ``is_active``, the password-hash digest). Before
    it runs, the sign-in's idle and absolute timeouts are enforced; after it, a refusal ends
    the sign-in, and activity is recorded at most once per throttle period.
    """
    session = request.session
    if SESSION_KEY not in session:
        return AnonymousUser()
    if load_user is None:
        load_user = lambda: auth.get_user(request)  # noqa: E731
    state = session.get(SIGN_IN_STATE_KEY)
    if not state:
        return _adopt(request, load_user())

    now = int(time.time())
    if now - state["seen"] >= settings.SESSION_IDLE_TIMEOUT_SECONDS:
        return _expire(request, state, IDLE_MESSAGE)
    if now - state["at"] >= absolute_limit_seconds(remember=state.get("remember", False)):
        return _expire(request, state, ABSOLUTE_MESSAGE)
    user = load_user()
    if not user.is_authenticated:
        # Refused by the row: Django flushes a session whose password digest is stale and
        # leaves the others (a deactivated or deleted user) for us to end.
        password_changed = SESSION_KEY not in session
        services.sign_in_end_by_id(
            sign_in_id=state["id"],
            reason=SignIn.EndReason.PASSWORD_CHANGED
            if password_changed
            else SignIn.EndReason.DEACTIVATED,
        )
        session.flush()
        return AnonymousUser()
    if now - state["seen"] >= settings.SESSION_ACTIVITY_THROTTLE_SECONDS:
        if not services.sign_in_touch(sign_in_id=state["id"], seen_at=timezone.now()):
            # Ended elsewhere while this copy of the session lived on: only possible with
            # signed cookies, or if the store's delete was lost.
            session.flush()
            return AnonymousUser()
        session[SIGN_IN_STATE_KEY] = {**state, "seen": now}
    return user


def _adopt(request, user) -> User | AnonymousUser:
    # The session was signed in by code that called django.contrib.auth.login() directly
    # (a test client's force_login, a third-party view): index the sign-in so it can be
    # listed and revoked from now on.
    if user.is_authenticated:
        _record_sign_in(request=request, user=user, remember=False)
    return user


def _expire(request, state, message: str) -> AnonymousUser:
    services.sign_in_end_by_id(sign_in_id=state["id"], reason=SignIn.EndReason.EXPIRED)
    request.session.flush()
    messages.info(request, message, fail_silently=True)
    return AnonymousUser()


def needs_reconciling(request, *, ended_sign_in_ids: set[str]) -> bool:
    """
    Whether ``session_request_finished`` has anything to do: an untouched session changed
    nothing, and a key is only cycled by a write. No I/O (the ASGI path asks in the loop).
    """
    session = request.session
    return session.accessed and bool(ended_sign_in_ids or session.modified)


def session_request_finished(request, *, ended_sign_in_ids: set[str]) -> None:
    """
    Reconcile the session with the sign-in index at the end of a request.

    A session whose sign-in ended during the request is emptied (rather than written back
    to the store it was just deleted from); a session whose key was cycled (a password
    change) has its index entry moved to the new key.
    """
    if not needs_reconciling(request, ended_sign_in_ids=ended_sign_in_ids):
        return
    session = request.session
    state = session.get(SIGN_IN_STATE_KEY)
    if not state:
        return
    if state["id"] in ended_sign_in_ids:
        session.flush()
        return
    key = _indexable_session_key(session)
    if key is None or key == getattr(request, "_indexed_session_key", None):
        return
    if not services.sign_in_rekey(sign_in_id=state["id"], session_key=key):
        session.flush()
