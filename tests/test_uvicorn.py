"""
The site served by uvicorn (two worker processes, as ``bench.server.UvicornServer`` runs it
for the benchmark's ASGI rows), with sessions in Redis on the fast path; on PostgreSQL, the
database connections its workers hold.

Under ASGI Django runs each request's sync code on a thread of its own, so anything kept
per thread is made again for every request: the fast path's session-read connection was
(one Redis connection per request). The connections are now taken from and given back to
a few per process, and this test holds it to that: under a load of 8 concurrent clients,
the server opens no more Redis connections than it serves requests at once.
"""

import os
import secrets
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis as redis_lib

from bench.processes import manage
from bench.server import UvicornServer, worker_pids
from scripts.cluster import database_create, database_drop
from tests.support.services import TEST_REDIS_URL
from tests.test_cluster import Agent, storefront_sign_in

pytestmark = [pytest.mark.slow]

CLIENTS = 8
REQUESTS_PER_CLIENT = 40
WORKERS = 2


def _connections_opened(client) -> int:
    return client.info("stats")["total_connections_received"]


def _site_env(database_url: str, redis_url: str, **more) -> dict[str, str]:
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(64),
        JWT_SIGNING_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SESSION_BACKEND="cache",
        AUTH_FAST_PATH="1",
        DJANGO_SETTINGS_MODULE="config.settings.bench",
        **more,
    )
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        manage(*command, env=env, timeout=120, check=True)
    return env


def _cpus_allowed(pid: int) -> set[str]:
    """The CPU list each thread of ``pid`` may run on, one entry per distinct list."""
    lists = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("Cpus_allowed_list:"):
                lists.add(line.split(":", 1)[1].strip())
    return lists


@pytest.mark.own_config
def test_uvicorn_serves_signed_in_pages_on_a_bounded_number_of_redis_connections(
    private_redis, tmp_path
):
    env = _site_env(f"sqlite:///{tmp_path / 'db.sqlite3'}", private_redis.url)
    client = redis_lib.Redis.from_url(private_redis.url)

    with UvicornServer(
        env=env, workers=WORKERS, log_path=tmp_path / "uvicorn.log", pin_workers=True
    ) as server:
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
        pinned = [_cpus_allowed(pid) for pid in worker_pids(server.process.pid)]

    # Each worker, every thread of it, on one CPU of its own (the benchmark's ASGI rows).
    if len(os.sched_getaffinity(0)) >= WORKERS:
        assert len(pinned) == WORKERS, pinned
        assert all(len(cpus) == 1 for cpus in pinned), pinned
        assert len(set().union(*pinned)) == WORKERS, pinned
    assert statuses == [200] * (CLIENTS * REQUESTS_PER_CLIENT)
    # At most one session-read connection and one of django-redis's pool per request
    # served at once, per worker; one per request would be 320.
    assert opened <= WORKERS * CLIENTS * 2, opened


@pytest.mark.postgres
def test_uvicorn_workers_on_the_fast_path_keep_their_database_connections(tmp_path):
    # Stock Django under ASGI runs each request on a thread made for it, whose database
    # connection goes with it: one connection per request that queries. The fast path's
    # handler keeps ASGI_THREADS threads per worker, and each its connection.
    parts = urlsplit(os.environ["DATABASE_URL"])
    database_url = urlunsplit(parts._replace(path=f"{parts.path}_uvicorn"))
    database = urlsplit(database_url).path.lstrip("/")
    database_create(database_url, fresh=True)
    # As many as the load can have in flight on one worker: each client's request, and
    # its next one, which can arrive while the first is still closing.
    threads = 2 * CLIENTS
    try:
        env = _site_env(database_url, TEST_REDIS_URL, ASGI_THREADS=str(threads))
        with UvicornServer(env=env, workers=WORKERS, log_path=tmp_path / "uvicorn.log") as server:
            before = _sessions_opened(database)
            statuses = _load(server.url, "/")  # the catalog: queries on every request
            opened = _sessions_opened(database) - before
    finally:
        database_drop(database_url)

    assert statuses == [200] * (CLIENTS * REQUESTS_PER_CLIENT)
    assert opened <= WORKERS * threads, opened


def _sessions_opened(database: str) -> int:
    """Connections PostgreSQL has accepted for ``database`` so far (pg_stat_database)."""
    server = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as suite:
        row = suite.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", [database]
        ).fetchone()
    return row[0]


def _load(base: str, path: str) -> list[int]:
    statuses: list[int] = []
    lock = threading.Lock()

    def load():
        agent = Agent()
        for _ in range(REQUESTS_PER_CLIENT):
            status = agent.request("GET", f"{base}{path}").status
            with lock:
                statuses.append(status)

    workers = [threading.Thread(target=load) for _ in range(CLIENTS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    return statuses
