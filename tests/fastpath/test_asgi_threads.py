"""
The fast path under ASGI (fastpath/asgi.py), driven through its real handler in this
process as uvicorn drives it: each request's sync code on one thread borrowed from a fixed
set, a signed-in page that changes nothing in three thread hops, and no Redis command or
query made in the event loop, where it would stall every other request of the worker.
"""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
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


class CountingExecutor(ThreadPoolExecutor):
    """One thread, as the handler's; remembers the thread that ran each call."""

    def __init__(self, record):
        super().__init__(max_workers=1)
        self.record = record

    def submit(self, fn, /, *args, **kwargs):
        def recorded():
            self.record.append(threading.get_ident())
            return fn(*args, **kwargs)

        return super().submit(recorded)


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


def _handler(record) -> PooledThreadsASGIHandler:
    handler = PooledThreadsASGIHandler(threads=THREADS)
    idle = asyncio.Queue()
    for _ in range(THREADS):
        idle.put_nowait(CountingExecutor(record))
    handler._idle = idle
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
    assert len(set(hops)) == 1


def test_each_request_keeps_one_thread_and_the_threads_are_reused(signed_in_cookie):
    _, cookie = signed_in_cookie
    hops = []
    concurrent = 8

    async def main():
        app = _handler(hops)
        for _ in range(3):
            answers = await asyncio.gather(
                *(_get(app, reverse("accounts:me"), cookie) for _ in range(concurrent))
            )
            assert [status for status, _ in answers] == [200] * concurrent

    asyncio.run(main())
    threads = set(hops)
    # 24 requests, 8 at a time, on the 3 threads the handler keeps: stock Django's
    # ASGIHandler would have started 24.
    assert len(threads) == THREADS
    assert len(hops) == 3 * concurrent * 3


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
        app = PooledThreadsASGIHandler(threads=THREADS)
        for path in (reverse("accounts:me"), reverse("shop:catalog")):
            for _ in range(3):
                status, _ = await _get(app, path, cookie)
                assert status == 200
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert senders, "the session was not read from Redis"
    assert loop_thread not in senders


@pytest.mark.parametrize("fast", [False, True], ids=["stock", "fast"])
def test_the_asgi_entry_point_pools_threads_only_on_the_fast_path(request, settings, fast):
    import importlib

    from django.core.handlers.asgi import ASGIHandler

    import config.asgi

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
