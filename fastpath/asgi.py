"""
The fast path under ASGI: Django's middleware with their hooks run in the event loop.

Django's ``MiddlewareMixin`` runs each ``process_request`` and ``process_response`` of a
middleware in async mode through ``sync_to_async``: a hop to the request's thread and back,
two per middleware, about 18 for one storefront page with the stock ``MIDDLEWARE``
(profiled: nearly all of the time a request spends under uvicorn beyond WSGI's). The hooks
of the middleware below do no I/O (headers, cookies, flags, a lazy ``request.user``), so
here they run where they are called, in the loop; Django's ``async_unsafe`` guard would
refuse a database query made there. What can do I/O still goes to a thread: the session's
load and save (``PrefetchingSessionMiddleware``), the view, and the reconciliation of the
sign-in after it (``accounts.middleware.SignInMiddleware``). CSRF's ``process_view`` reads
the POST body, which Django has already read into memory under ASGI.

Each class is Django's (or the fast path's) own, subclassed, so under WSGI nothing changes:
``__call__`` is MiddlewareMixin's sync path there.
"""

from django.contrib.messages.middleware import MessageMiddleware
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware

from .sessions import SnapshotAuthenticationMiddleware


class InLoopMixin:
    """
    Run ``process_request``, ``process_response`` and ``process_view`` in the event loop
    under ASGI. Django adapts a sync ``process_view`` with ``sync_to_async`` when it builds
    the chain; given a coroutine function it leaves it alone.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        if self.async_mode and hasattr(self, "process_view"):
            in_loop = self.process_view

            async def process_view(request, view_func, view_args, view_kwargs):
                return in_loop(request, view_func, view_args, view_kwargs)

            self.process_view = process_view

    async def __acall__(self, request):
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = self.process_response(request, response)
        return response


class InLoopSecurityMiddleware(InLoopMixin, SecurityMiddleware):
    pass


class InLoopCommonMiddleware(InLoopMixin, CommonMiddleware):
    pass


class InLoopCsrfViewMiddleware(InLoopMixin, CsrfViewMiddleware):
    pass


class InLoopAuthenticationMiddleware(InLoopMixin, SnapshotAuthenticationMiddleware):
    """
    The snapshot user (fastpath.sessions): ``request.user`` is lazy, resolved by the view in
    its thread; after the view the snapshot is compared with the user already loaded.
    """


class InLoopMessageMiddleware(InLoopMixin, MessageMiddleware):
    pass


class InLoopXFrameOptionsMiddleware(InLoopMixin, XFrameOptionsMiddleware):
    pass
