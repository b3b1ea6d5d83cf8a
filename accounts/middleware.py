"""The storefront's authentication middleware (replaces django.contrib.auth's)."""

from functools import partial

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.core.exceptions import ImproperlyConfigured
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject

from . import services, sessions


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
            sessions.session_request_finished(request, ended_signin_ids=ended)
        user = request.__dict__.get("_cached_user")
        if (
            user is not None
            and user.is_authenticated
            and "no-store" not in response.get("Cache-Control", "")
        ):
            # Pages rendered for a signed-in user may show private data: never keep them
            # in a shared cache or in the browser's history cache.
            patch_cache_control(
                response, private=True, no_cache=True, no_store=True, must_revalidate=True
            )
        return response
