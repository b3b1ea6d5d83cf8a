"""
The storefront's additions to Django's session and authentication middleware, one job each.

``MIDDLEWARE`` keeps Django's ``SessionMiddleware`` and ``AuthenticationMiddleware`` and puts
these beside them; each can be removed without breaking the others:

- ``SessionOutageMiddleware`` (before ``SessionMiddleware``): while the session store, Redis
  or the database is down, a 503 page, never a 500 and never a visitor treated as signed
  out who is not (accounts/outage.py);
- ``SessionCookieGuardMiddleware`` (before ``SessionMiddleware``): a session cookie that
  cannot be a session key is no session, and is deleted from the browser;
- ``SignInMiddleware`` (after ``AuthenticationMiddleware``): the sign-in index and the idle
  and absolute timeouts (accounts/sessions.py);
- ``PrivateNoStoreMiddleware`` (after ``AuthenticationMiddleware``): a page served to a
  signed-in user is ``Cache-Control: private, no-store``.
"""

import re
import sys
from importlib import import_module

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.signed_cookies import SessionStore as SignedCookieStore
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import got_request_exception
from django.utils.functional import SimpleLazyObject, empty

from config.cache_control import patch_private_no_store
from config.errors import API_PATH_PREFIX
from config.middleware import RunsInBothModes, SyncAndAsyncMiddleware

from . import services, sessions
from .outage import SAFE_METHODS, SERVICE_DOWN_ERRORS, SessionStoreUnavailable, outage_response

# The keys Django gives server-side sessions: 32 characters of [a-z0-9] (at least 8 are
# required, and the database column holds 40).
SESSION_KEY_RE = re.compile(r"[a-z0-9]{8,40}")


def _session_store_class():
    return import_module(settings.SESSION_ENGINE).SessionStore


class SessionCookieGuardMiddleware(SyncAndAsyncMiddleware):
    """
    Drop a session cookie that cannot be a session key (oversize, garbage, a NUL byte that
    PostgreSQL refuses to compare) before Django's ``SessionMiddleware`` looks it up, and
    delete it from the browser. A signed-cookie "key" is the signed session itself, and its
    signature is its check.
    """

    def before(self, request):
        name = settings.SESSION_COOKIE_NAME
        key = request.COOKIES.get(name)
        refused = (
            key is not None
            and not issubclass(_session_store_class(), SignedCookieStore)
            and not SESSION_KEY_RE.fullmatch(key)
        )
        if refused:
            del request.COOKIES[name]
        return refused

    def after(self, request, response, refused):
        name = settings.SESSION_COOKIE_NAME
        if refused and name not in response.cookies:
            response.delete_cookie(
                name,
                path=settings.SESSION_COOKIE_PATH,
                domain=settings.SESSION_COOKIE_DOMAIN,
                samesite=settings.SESSION_COOKIE_SAMESITE,
            )
        return response


def _remember_uncaught_exception(sender, request=None, **kwargs):
    # Django turns an exception raised in a middleware or a view into a 500 response before
    # the middleware around it sees anything; keep the exception for SessionOutageMiddleware.
    if request is not None:
        request._uncaught_exception = sys.exception()


got_request_exception.connect(_remember_uncaught_exception, dispatch_uid="accounts.outage")


class SessionOutageMiddleware(SyncAndAsyncMiddleware):
    """
    Answer 503 (with ``Retry-After``), not 500, when the session store, Redis or the
    database is down, wherever the failure happens: in a view, while loading the session,
    or while ``SessionMiddleware`` saves it after the view (a sign-in that is not stored is
    no sign-in, and the visitor must not believe it worked).

    A form post is refused before the view runs if the session store does not answer, so a
    sign-up never creates an account it then cannot sign in. Views marked
    ``serve_signed_out_during_outage`` render signed out from an empty session instead.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        if self.async_mode:
            # Django would run process_view in a thread; only its store check needs one.
            self.process_view = self._aprocess_view

    async def _aprocess_view(self, request, view_func, view_args, view_kwargs):
        if self._checks_the_store(request):
            return await sync_to_async(SessionOutageMiddleware.process_view)(
                self, request, view_func, view_args, view_kwargs
            )
        return SessionOutageMiddleware.process_view(
            self, request, view_func, view_args, view_kwargs
        )

    @staticmethod
    def _checks_the_store(request) -> bool:
        return (
            request.method not in SAFE_METHODS
            and hasattr(getattr(request, "session", None), "check_available")
            and not request.path_info.startswith(API_PATH_PREFIX)
        )

    def after(self, request, response, state):
        exc = getattr(request, "_uncaught_exception", None)
        if response.status_code == 500 and isinstance(exc, SERVICE_DOWN_ERRORS):
            return outage_response(request, exc)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        request.outage_answers_json = getattr(view_func, "answers_json", False)
        session = getattr(request, "session", None)
        if session is None:
            return None
        if request.method in SAFE_METHODS and getattr(
            view_func, "serve_signed_out_during_outage", False
        ):
            session.serve_signed_out_if_unavailable = True
            return None
        if self._checks_the_store(request):
            try:
                session.check_available()
            except SessionStoreUnavailable as exc:
                return outage_response(request, exc)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, SERVICE_DOWN_ERRORS):
            return outage_response(request, exception)
        return None


def loaded_user(request):
    """The user this request has loaded so far, or None: never loads one itself."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        return None if user._wrapped is empty else user._wrapped
    return user


def _resolved(user):
    # The object behind AuthenticationMiddleware's lazy request.user, loading it if need be.
    if isinstance(user, SimpleLazyObject):
        if user._wrapped is empty:
            user._setup()
        return user._wrapped
    return user


class SignInMiddleware(RunsInBothModes):
    """
    Wrap the authentication middleware's ``request.user`` with the sign-in's rules (idle and
    absolute timeouts, activity, adopting sign-ins made by a bare ``auth.login()``), and at
    the end of the request reconcile the sign-in index with the session: a session whose
    sign-in ended during the request is emptied rather than written back to the store it
    was just deleted from, and a cycled key is re-indexed.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._choose_mode(get_response)

    def _wrap_user(self, request) -> None:
        if not hasattr(request, "user"):
            raise ImproperlyConfigured("SignInMiddleware needs AuthenticationMiddleware before it.")
        authenticated = request.user
        user = SimpleLazyObject(
            lambda: sessions.session_user(request, lambda: _resolved(authenticated))
        )
        request.user = user

        # A coroutine function, as Django's own request.auser is: the adapter to a thread is
        # made when a view awaits it, not on every request.
        async def auser():
            return await sync_to_async(_resolved)(user)

        request.auser = auser
        request._indexed_session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)

    def sync_call(self, request):
        self._wrap_user(request)
        # The ids of the sign-ins the view ends are collected in a context variable, which
        # a sync view run in a thread under ASGI shares (asgiref copies the context).
        with services.sign_in_end_tracking() as ended:
            response = self.get_response(request)
            return self._finished(request, response, ended)

    async def __acall__(self, request):
        self._wrap_user(request)
        with services.sign_in_end_tracking() as ended:
            response = await self.get_response(request)
            if not sessions.needs_reconciling(request, ended_sign_in_ids=ended):
                return response
            # The reconciliation reads and writes the stores: in a thread, as the view is.
            return await sync_to_async(self._finished)(request, response, ended)

    @staticmethod
    def _finished(request, response, ended):
        try:
            sessions.session_request_finished(request, ended_sign_in_ids=ended)
        except SERVICE_DOWN_ERRORS as exc:
            # The store or the database is down (the view may have answered 503
            # already): reconciling the session waits for the next request.
            response = outage_response(request, exc)
        return response


class PrivateNoStoreMiddleware(SyncAndAsyncMiddleware):
    """
    Mark every response served to a signed-in user ``Cache-Control: private, no-store``:
    pages rendered for them may show private data, and must stay out of shared caches and
    the browser's history cache. A request that never looked at the user is left alone.
    """

    def after(self, request, response, state):
        user = loaded_user(request)
        if user is not None and user.is_authenticated:
            patch_private_no_store(response)
        return response
