"""
A fresh clone served by gunicorn with several workers and the local settings: one key
published by every worker, and with DEBUG=0 every page and its static files served.
"""

import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.urls import reverse

from bench.server import GunicornServer
from bench.transport import HttpTransport
from tests.support.processes import manage

WORKERS = 3


@pytest.fixture(scope="module")
def local_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("local-site")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SECRET_KEY", "JWT_", "REDIS_URL", "SESSION_BACKEND", "DJANGO_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        LOCAL_STATE_DIR=str(tmp / "var"),
        JWT_ALGORITHM="RS256",
        DEBUG="0",
    )
    migrate_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "JWT_ALGORITHM": "HS256",
    }
    manage("migrate", "--verbosity", "0", env=migrate_env, check=True)
    assert not (tmp / "var").exists()  # The state directory is fresh when gunicorn starts.
    server = GunicornServer(
        env=env,
        workers=WORKERS,
        log_path=tmp / "gunicorn.log",
        ready_path="/api/healthz/",
        settings_module="config.settings.local",
        start_timeout=60,
    )
    with server:
        yield server


def _get(server, path: str, headers: dict | None = None):
    return HttpTransport(host=server.host, port=server.port, timeout=10).request(
        "GET", path, headers=headers or {}
    )


@pytest.mark.slow
def test_every_worker_of_a_fresh_clone_publishes_the_same_single_key(local_site):
    kids, served_by = set(), set()
    with ThreadPoolExecutor(max_workers=WORKERS * 2) as pool:
        for _ in range(20):
            answers = list(
                pool.map(
                    lambda _: _get(local_site, "/.well-known/jwks.json", {"X-Bench-Count": "1"}),
                    range(WORKERS * 4),
                )
            )
            assert {answer.status for answer in answers} == {200}
            kids |= {re.search(rb'"kid":\s*"([^"]+)"', answer.body).group(1) for answer in answers}
            served_by = {path.name for path in local_site.count_dir.iterdir()}
            if len(served_by) == WORKERS:
                break
    assert len(served_by) == WORKERS  # Every worker answered at least once.
    assert len(kids) == 1


@pytest.mark.slow
def test_local_settings_with_debug_off_serve_every_page_and_its_static_files(local_site):
    pages = [
        reverse("shop:catalog"),
        reverse("compare"),
        reverse("webclient:app"),
        reverse("admin_login"),
        reverse("api:docs"),
    ]
    static = set()
    for page in pages:
        answer = _get(local_site, page)
        assert answer.status == 200, page
        static |= set(re.findall(rb'(?:href|src)="(/static/[^"]+)"', answer.body))
    assert any(path.endswith(b".css") for path in static)
    for path in sorted(static):
        assert _get(local_site, path.decode()).status == 200, path
