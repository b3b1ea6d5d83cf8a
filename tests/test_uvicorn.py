"""
The site served by uvicorn (two worker processes, as ``bench.server.UvicornServer`` runs it
for the benchmark's ASGI rows), with sessions in Redis on the fast path.

Under ASGI Django runs each request's sync code on a thread of its own, so anything kept
per thread is made again for every request: the fast path's session-read connection was
(one Redis connection per request). The connections are now taken from and given back to
a few per process, and this test holds it to that: under a load of 8 concurrent clients,
the server opens no more Redis connections than it serves requests at once.
"""

import os
import secrets
import threading

import pytest
import redis as redis_lib

from bench.processes import manage
from bench.server import UvicornServer
from tests.test_cluster import Agent, storefront_sign_in

pytestmark = [pytest.mark.slow, pytest.mark.own_config]

CLIENTS = 8
REQUESTS_PER_CLIENT = 40
WORKERS = 2


def _connections_opened(client) -> int:
    return client.info("stats")["total_connections_received"]


def test_uvicorn_serves_signed_in_pages_on_a_bounded_number_of_redis_connections(
    private_redis, tmp_path
):
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(64),
        JWT_SIGNING_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL=private_redis.url,
        SESSION_BACKEND="cache",
        AUTH_FAST_PATH="1",
        DJANGO_SETTINGS_MODULE="config.settings.bench",
    )
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        manage(*command, env=env, timeout=120, check=True)
    client = redis_lib.Redis.from_url(private_redis.url)

    with UvicornServer(env=env, workers=WORKERS, log_path=tmp_path / "uvicorn.log") as server:
        browser = Agent()
        storefront_sign_in(browser, server.url)
        statuses: list[int] = []
        lock = threading.Lock()

        def load():
            agent = Agent(cookies=dict(browser.cookies))
            for _ in range(REQUESTS_PER_CLIENT):
                status = agent.request("GET", f"{server.url}/accounts/me/").status
                with lock:
                    statuses.append(status)

        before = _connections_opened(client)
        threads = [threading.Thread(target=load) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        opened = _connections_opened(client) - before

    assert statuses == [200] * (CLIENTS * REQUESTS_PER_CLIENT)
    # At most one session-read connection and one of django-redis's pool per request
    # served at once, per worker; one per request would be 320.
    assert opened <= WORKERS * CLIENTS * 2, opened
