"""
The fast path under ASGI: Django's middleware with their hooks run in the event loop.

Django's ``MiddlewareMixin`` runs each ``process_request`` and ``process_response`` of a
middleware in async mode through ``sync_to_async``: a hop to the request's thread and back,
two per middleware, about 18 for one storefront page with the stock ``MIDDLEWARE``
(profiled: nearly all of the time a request spends under uvicorn beyond WSGI's). The hooks
of the middleware below do no I/O (headers, cookies, flags, a lazy ``request.user``), so
here they run where they are called, in the loop; Django's ``async_unsafe`` guard would
refuse a database query made there. What can do I/O still goes to a thread: the session's
load (on first use, in the view's thread) and its save (``InLoopSessionMiddleware``), the
view, and the reconciliation of the sign-in after it when there is one to do
(``accounts.middleware.SignInMiddleware``). CSRF's ``process_view`` reads the POST body,
which Django has already read into memory under ASGI.

An authenticated page that changes nothing is three hops: Django's request_started
receivers, the view, and the response's close (request_finished). The handler below,
``PooledThreadsASGIHandler``, makes each of them cheaper by keeping the threads.

Each class is Django's (or the fast path's) own, subclassed, so under WSGI nothing changes:
``__call__`` is MiddlewareMixin's sync path there.
"""

import asyncio
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.handlers.asgi import ASGIHandler
from django.db import connections
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware

from .sessions import PrefetchingSessionMiddleware, SnapshotAuthenticationMiddleware


def _unread_session(request) -> bool:
    """Whether the request has a session nobody has loaded yet (touching it would load it)."""
    session = getattr(request, "session", None)
    return session is not None and not hasattr(session, "_session_cache")


class InLoopMixin:
    """
    Run ``process_request``, ``process_response`` and ``process_view`` in the event loop
    under ASGI; ``process_response`` in the request's thread when ``_response_does_io``
    says it would do I/O for this request. Django adapts a sync ``process_view`` with
    ``sync_to_async`` when it builds the chain; given a coroutine function it leaves it
    alone.
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
            if self._response_does_io(request):
                return await sync_to_async(self.process_response)(request, response)
            response = self.process_response(request, response)
        return response

    def _response_does_io(self, request) -> bool:
        """Whether ``process_response`` would do I/O for this request (then: a thread)."""
        return False


class InLoopSessionMiddleware(InLoopMixin, PrefetchingSessionMiddleware):
    """
    ``PrefetchingSessionMiddleware`` under ASGI with no thread hop of its own, unless the
    session is to be saved.

    Before the view it only makes the session store (no I/O) and sends no early GET: under
    ASGI the GET would need a hop to a thread of its own, which costs more than the round
    trip it hides. The session loads on first use, in the view's thread, as stock Django's
    does. After the view, a session that is not to be saved needs nothing but headers
    (``Vary: Cookie``, a cookie deleted for an emptied session), done in the loop; saving
    it goes to the request's thread. Under WSGI nothing changes.
    """

    def process_request(self, request):
        if self.async_mode:
            return SessionMiddleware.process_request(self, request)
        return super().process_request(request)

    def _response_does_io(self, request) -> bool:
        # A save, or (had anything prefetched) reading the answer of a GET nobody asked for.
        session = getattr(request, "session", None)
        if session is None:
            return False
        return (
            session.modified
            or settings.SESSION_SAVE_EVERY_REQUEST
            or getattr(session, "_pending", None) is not None
        )


class InLoopSecurityMiddleware(InLoopMixin, SecurityMiddleware):
    pass


class InLoopCommonMiddleware(InLoopMixin, CommonMiddleware):
    pass


class InLoopCsrfViewMiddleware(InLoopMixin, CsrfViewMiddleware):
    pass


class InLoopAuthenticationMiddleware(InLoopMixin, SnapshotAuthenticationMiddleware):
    """
    The snapshot user (fastpath.sessions): ``request.user`` is lazy, resolved by the view in
    its thread; after the view the snapshot is compared with the user already loaded, in
    the loop when the session is loaded too. A user the session did not give (an API
    token's, on a request that also carries a session cookie) leaves the session unread:
    comparing then loads it, I/O that goes to the request's thread.
    """

    def _response_does_io(self, request) -> bool:
        return self._loaded_user(request) is not None and _unread_session(request)


class InLoopMessageMiddleware(InLoopMixin, MessageMiddleware):
    """
    After the view, new messages go to the cookie, and what does not fit to the session:
    writing to a session nobody has loaded loads it, I/O that goes to the request's thread.
    """

    def _response_does_io(self, request) -> bool:
        added = getattr(getattr(request, "_messages", None), "added_new", False)
        return added and _unread_session(request)


class InLoopXFrameOptionsMiddleware(InLoopMixin, XFrameOptionsMiddleware):
    pass


class PooledThreadsASGIHandler(ASGIHandler):
    """
    Django's ASGIHandler, with each request's sync code run on a thread borrowed from a
    fixed set instead of one made for it.

    Stock Django enters asgiref's ``ThreadSensitiveContext()`` for every request: the
    request's first thread-sensitive ``sync_to_async`` call starts a thread, and the end of
    the request joins it (in one more new thread). That keeps each request's sync code on
    one thread of its own, so a database connection or a transaction never crosses two
    requests. Here each request still has a thread to itself for as long as it runs, the
    same guarantee, but the thread is one of ``threads`` kept for the life of the process
    (asgiref's ``ThreadSensitiveContext(executor=...)``, whose caller owns the executor).
    A request that finds every kept thread taken (a burst, slow uploads or answers,
    streaming views) gets a new one, as stock would make: no request waits for a thread.
    Up to ``threads`` idle ones are kept; one more is closed when its request ends.

    What it also changes: each thread keeps its database connection across requests, so
    ``CONN_MAX_AGE`` and ``CONN_HEALTH_CHECKS`` work as under WSGI (stock ASGI opens a new
    connection for every request that queries); a worker keeps at most ``threads`` idle,
    and holds one per request in flight beyond them. Django's request_started
    and request_finished receivers, which close connections past their age or in error,
    run on the request's thread, as stock.
    """

    def __init__(self, threads: int):
        super().__init__()
        if threads < 1:
            raise ValueError("threads must be at least 1")
        self.threads = threads
        # Idle threads (one-thread executors), the most recently used last. Only touched
        # in the event loop.
        self._idle: deque[ThreadPoolExecutor] = deque()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            # Django's own refusal of other scopes.
            return await super().__call__(scope, receive, send)
        executor = self._take()
        finished = False
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
            finished = True
        finally:
            if finished:
                # handle() ends with the response's close on this thread: it is idle.
                self._give_back(executor)
            else:
                self._give_back_when_idle(executor)

    def _take(self) -> ThreadPoolExecutor:
        if self._idle:
            return self._idle.pop()
        # Every kept thread is taken (a burst, slow uploads or answers, streaming): a new
        # one, as stock would make. No request waits for a thread.
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def _give_back(self, executor: ThreadPoolExecutor) -> None:
        if len(self._idle) < self.threads:
            self._idle.append(executor)
            return
        # One more than the worker keeps: close its database connections on its own
        # thread (they are per thread), then let the thread end.
        executor.submit(connections.close_all)
        executor.shutdown(wait=False)

    def _give_back_when_idle(self, executor: ThreadPoolExecutor) -> None:
        # Cancelled or failed: the request's sync code may still be running on the thread.
        # Give the thread back once it has finished, so no request waits behind another.
        loop = asyncio.get_running_loop()
        done = executor.submit(int)
        done.add_done_callback(lambda _: loop.call_soon_threadsafe(self._give_back, executor))


def get_asgi_application(threads: int | None = None) -> PooledThreadsASGIHandler:
    """Like ``django.core.asgi.get_asgi_application``, with ``settings.ASGI_THREADS``."""
    django.setup(set_prefix=False)
    return PooledThreadsASGIHandler(settings.ASGI_THREADS if threads is None else threads)
