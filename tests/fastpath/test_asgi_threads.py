"""
The fast path under ASGI (fastpath/asgi.py), driven through its real handler in this
process as uvicorn drives it: each request's sync code on one thread borrowed from a fixed
set, a signed-in page that changes nothing in three thread hops, and no Redis command or
query made in the event loop, where it would stall every other request of the worker.
"""

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.urls import reverse
from redis.connection import AbstractConnection

from fastpath.asgi import PooledThreadsASGIHandler
from tests.support.factories import UserFactory

THREADS = 3


def _scope(path: str, cookie: str | None) -> dict:
    headers = [(b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }


async def _get(app, path: str, cookie: str | None = None) -> tuple[int, bytes]:
    """One GET through the ASGI application, as a server sends it; (status, body)."""
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    disconnected = asyncio.Event()
    sent = []

    async def receive():
        if messages:
            return messages.pop()
        await disconnected.wait()  # the client stays until the answer is sent
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await app(_scope(path, cookie), receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


REQUEST = contextvars.ContextVar("request", default=None)


class CountingExecutor(ThreadPoolExecutor):
    """One thread, as the handler's; remembers which request's call ran on which thread."""

    def __init__(self, record):
        super().__init__(max_workers=1)
        self.record = record

    def submit(self, fn, /, *args, **kwargs):
        request = REQUEST.get()  # submitted from the request's task, in the loop

        def recorded():
            self.record.append((request, threading.get_ident()))
            return fn(*args, **kwargs)

        return super().submit(recorded)


async def _numbered_get(app, number: int, path: str, cookie: str | None = None):
    REQUEST.set(number)
    return await _get(app, path, cookie)


@pytest.fixture
def signed_in_cookie(fast_path, transactional_db, redis_sessions, password):
    # Committed (transactional_db), so the handler's threads, each with a database
    # connection of its own, see the user.
    user = UserFactory(password=password)
    browser = Client()
    assert (
        browser.post(
            reverse("accounts:login"), {"username": user.email, "password": password}
        ).status_code
        == 302
    )
    browser.get(reverse("accounts:me"))  # the snapshot is stored: the page changes nothing
    return user, browser.cookies[settings.SESSION_COOKIE_NAME].value


_made: list[PooledThreadsASGIHandler] = []


@pytest.fixture(autouse=True)
def _close_kept_threads():
    # Each kept thread holds a database connection (CONN_MAX_AGE): close them after the
    # test, so none outlives the test database.
    yield
    while _made:
        for executor in list(_made.pop()._idle):
            executor.submit(connections.close_all).result()
            executor.shutdown()


def _pooled(threads: int) -> PooledThreadsASGIHandler:
    handler = PooledThreadsASGIHandler(threads=threads)
    _made.append(handler)
    return handler


def _handler(record) -> PooledThreadsASGIHandler:
    handler = _pooled(THREADS)
    handler._idle.extend(CountingExecutor(record) for _ in range(THREADS))
    return handler


def test_a_signed_in_page_that_changes_nothing_is_three_thread_hops(signed_in_cookie):
    user, cookie = signed_in_cookie
    hops = []

    async def main():
        app = _handler(hops)
        status, body = await _get(app, reverse("accounts:me"), cookie)
        return status, body

    status, body = asyncio.run(main())
    assert status == 200
    assert user.email.encode() in body
    # Django's request_started receivers, the view (which loads the session and builds
    # the user), and the response's close (request_finished): no middleware hop.
    assert len(hops) == 3, hops
    assert len({thread for _, thread in hops}) == 1


def test_each_request_keeps_one_thread_and_the_threads_are_reused(signed_in_cookie):
    _, cookie = signed_in_cookie
    hops = []

    async def main():
        app = _handler(hops)
        for batch in range(8):
            answers = await asyncio.gather(
                *(
                    _numbered_get(app, batch * THREADS + n, reverse("accounts:me"), cookie)
                    for n in range(THREADS)
                )
            )
            assert [status for status, _ in answers] == [200] * THREADS

    asyncio.run(main())
    threads_of = {}
    for request, thread in hops:
        threads_of.setdefault(request, set()).add(thread)
    # 24 requests, 3 at a time: each on one thread, all on the 3 the handler keeps
    # (stock Django's ASGIHandler would have started 24).
    assert len(threads_of) == 8 * THREADS
    assert all(len(threads) == 1 for threads in threads_of.values())
    assert len({thread for _, thread in hops}) == THREADS


def test_requests_beyond_the_kept_threads_get_new_ones_and_only_the_kept_stay(signed_in_cookie):
    # A burst, slow uploads, long answers or streaming hold a kept thread for the whole
    # request: the next requests get new threads, as stock would make, never a wait.
    _, cookie = signed_in_cookie
    hops = []
    concurrent = 8

    async def main():
        app = _handler(hops)
        answers = await asyncio.gather(
            *(_numbered_get(app, n, reverse("accounts:me"), cookie) for n in range(concurrent))
        )
        return app, [status for status, _ in answers]

    app, statuses = asyncio.run(main())
    assert statuses == [200] * concurrent
    on_kept_threads = {request for request, _ in hops}
    assert 0 < len(on_kept_threads) < concurrent
    assert len(app._idle) == THREADS


def test_a_failed_request_gives_its_thread_back_once_the_thread_is_idle(fast_path):
    busy = threading.Event()

    async def main():
        app = _pooled(1)
        kept = ThreadPoolExecutor(max_workers=1)
        app._idle.append(kept)

        async def failing(scope, receive, send):
            # The request's sync code is still running on its thread when it fails.
            asyncio.get_running_loop().run_in_executor(kept, busy.wait, 2)
            raise RuntimeError("the view failed")

        app.handle = failing
        with pytest.raises(RuntimeError, match="the view failed"):
            await app(_scope("/healthz", None), None, None)
        given_back_early = len(app._idle)
        busy.set()
        for _ in range(100):
            if app._idle:
                break
            await asyncio.sleep(0.01)
        return given_back_early, list(app._idle) == [kept]

    assert asyncio.run(main()) == (0, True)


def test_no_redis_command_is_sent_from_the_event_loop(signed_in_cookie, monkeypatch):
    # (A query there Django refuses itself: SynchronousOnlyOperation, a 500.)
    _, cookie = signed_in_cookie
    senders = []
    original = AbstractConnection.send_packed_command

    def recording(conn, command, check_health=True):
        senders.append(threading.get_ident())
        return original(conn, command, check_health=check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", recording)

    async def main():
        app = _pooled(THREADS)
        for path in (reverse("accounts:me"), reverse("shop:catalog")):
            for _ in range(3):
                status, _ = await _get(app, path, cookie)
                assert status == 200
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert senders, "the session was not read from Redis"
    assert loop_thread not in senders


@pytest.mark.parametrize("fast", [False, True], ids=["stock", "fast"])
def test_the_asgi_entry_point_pools_threads_only_on_the_fast_path(
    request, settings, monkeypatch, fast
):
    import importlib

    from django.core.handlers.asgi import ASGIHandler

    import config.asgi
    import fastpath.startup

    # Not gc.freeze() in the test process: tests/fastpath/test_startup.py checks it in a child.
    monkeypatch.setattr(fastpath.startup, "freeze_what_startup_made", lambda: 0)
    if fast:
        request.getfixturevalue("fast_path")
    settings.ASGI_THREADS = 2
    application = importlib.reload(config.asgi).application
    assert isinstance(application, ASGIHandler)
    assert isinstance(application, PooledThreadsASGIHandler) is fast
    if fast:
        assert application.threads == 2
    with pytest.raises(ValueError, match="at least 1"):
        PooledThreadsASGIHandler(threads=0)
