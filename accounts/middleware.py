"""
The storefront's session and authentication middlewares (they replace Django's
``SessionMiddleware`` and ``AuthenticationMiddleware``).
"""

import re
from functools import partial

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.backends.signed_cookies import SessionStore as SignedCookieStore
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import SimpleLazyObject

from config.cache_control import patch_private_no_store
from config.errors import API_PATH_PREFIX

from . import services, sessions
from .outage import (
    DATABASE_DOWN_ERRORS,
    SAFE_METHODS,
    SERVICE_DOWN_ERRORS,
    SessionStoreUnavailable,
    outage_response,
)

# The keys Django gives server-side sessions: 32 characters of [a-z0-9] (at least 8 are
# required, and the database column holds 40).
SESSION_KEY_RE = re.compile(r"[a-z0-9]{8,40}")


class GuardedSessionMiddleware(SessionMiddleware):
    """
    Django's SessionMiddleware with two guards:

    - a session cookie that cannot be a session key (oversize, garbage, a NUL byte that
      PostgreSQL would refuse to compare) is no session, and is deleted from the browser;
    - while the session store, Redis or the database is down, the answer is a 503, never a
      500, and never a visitor treated as signed out who is not (see accounts/outage.py).
    """

    def process_request(self, request):
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        # A signed-cookie "key" is the signed session itself; its signature is its check.
        if not issubclass(self.SessionStore, SignedCookieStore) and not (
            session_key and SESSION_KEY_RE.fullmatch(session_key)
        ):
            session_key = None
        request.session = session = self.SessionStore(session_key)
        if (
            session_key is not None
            and hasattr(session, "prefetch")
            and not request.path_info.startswith(API_PATH_PREFIX)
        ):
            # The API never reads the session; everything else reads it first thing.
            session.prefetch()

    def process_view(self, request, view_func, view_args, view_kwargs):
        request.outage_answers_json = getattr(view_func, "answers_json", False)
        session = request.session
        if request.method in SAFE_METHODS and getattr(
            view_func, "serve_signed_out_during_outage", False
        ):
            session.serve_signed_out_if_unavailable = True
            return None
        if (
            request.method not in SAFE_METHODS
            and hasattr(session, "check_available")
            and not request.path_info.startswith(API_PATH_PREFIX)
        ):
            # A form post may write to the database before it touches the session (a
            # sign-up creates the account, then signs it in): make sure the store answers
            # first, so that an outage refuses the post before any write.
            try:
                session.check_available()
            except SessionStoreUnavailable as exc:
                return outage_response(request, exc)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, SERVICE_DOWN_ERRORS):
            return outage_response(request, exception)
        return None

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if hasattr(session, "discard_prefetch"):
            session.discard_prefetch()
        try:
            return super().process_response(request, response)
        except (SessionStoreUnavailable, *DATABASE_DOWN_ERRORS) as exc:
            # The view succeeded but its session could not be saved: the visitor must not
            # believe it worked (a sign-in that is not stored is no sign-in).
            return outage_response(request, exc)


def _get_user(request):
    if not hasattr(request, "_cached_user"):
        request._cached_user = sessions.session_user(request)
    return request._cached_user


async def _auser(request):
    return await sync_to_async(_get_user)(request)


class SessionAuthenticationMiddleware(AuthenticationMiddleware):
    """
    Set ``request.user`` lazily from the session's user snapshot (no database query), keep
    the per-user sign-in index in step with the session, and mark every response served to
    a signed-in user ``Cache-Control: no-store``.

    It subclasses Django's middleware so that the admin's system check, which looks for
    ``AuthenticationMiddleware`` or a subclass, is satisfied.
    """

    # The sign-in tracking below must wrap the view in the same thread.
    async_capable = False

    def __call__(self, request):
        if not hasattr(request, "session"):
            raise ImproperlyConfigured(
                "SessionAuthenticationMiddleware needs SessionMiddleware before it."
            )
        request.user = SimpleLazyObject(lambda: _get_user(request))
        request.auser = partial(_auser, request)
        request._indexed_session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        with services.signin_end_tracking() as ended:
            response = self.get_response(request)
            try:
                sessions.session_request_finished(request, ended_signin_ids=ended)
            except SERVICE_DOWN_ERRORS as exc:
                # The session store or the database is down (the view may have answered
                # 503 already): reconciling the session waits for the next request.
                response = outage_response(request, exc)
        user = request.__dict__.get("_cached_user")
        if user is not None and user.is_authenticated:
            # Pages rendered for a signed-in user may show private data: never keep them
            # in a shared cache or in the browser's history cache.
            patch_private_no_store(response)
        return response
