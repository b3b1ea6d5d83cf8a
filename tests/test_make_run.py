"""
``make run`` as the README's first command: the Python it needs, a busy port reported before
anything else, PORT honoured, DEBUG off served, and every URL its banner prints answering.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from scripts import preflight

# own_config: make run is started on the embedded defaults, whatever this run is configured with.
pytestmark = pytest.mark.own_config

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make") or "make"
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The embedded defaults, whatever this test run itself is configured with."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL", "SESSION_BACKEND", "AUTH_FAST_PATH"}
        and not key.startswith("JWT_")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        LOCAL_STATE_DIR=str(tmp_path / "var"),
        # The venv's python3 for preflight, as on a machine where python3 is new enough.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        **extra,
    )
    return env


def test_an_old_python_is_refused_with_what_to_type_instead():
    problem = preflight.python_problem((3, 9, 18))
    assert "needs Python 3.11 or newer" in problem
    assert "3.9.18" in problem
    assert "make run PYTHON=python3.11" in problem
    assert preflight.python_problem((3, 11, 0)) is None
    assert preflight.python_problem((3, 13, 1)) is None
    assert preflight.python_problem() is None  # the one running this suite


def test_a_busy_port_is_reported_before_anything_is_installed_or_migrated(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(  # noqa: S603 - our own Makefile, fixed arguments.
            [MAKE, "--no-print-directory", "run", f"PORT={port}"],
            cwd=ROOT,
            env=make_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"make run PORT={port + 1}" in result.stderr
    # Nothing ran before the check: no install, no migration, no banner.
    assert "migrate" not in result.stdout
    assert "Sessions vs JWT shop" not in result.stdout
    assert not (tmp_path / "db.sqlite3").exists()


def test_a_free_port_passes_the_check():
    assert preflight.port_problem(host="127.0.0.1", port=free_port()) is None


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


@pytest.fixture
def served_with_debug_off(tmp_path):
    """``DEBUG=0 make run PORT=<free>`` on a fresh SQLite database; yields (port, banner)."""
    port = free_port()
    log = tmp_path / "run.log"
    with log.open("w") as out:
        server = subprocess.Popen(  # noqa: S603 - our own Makefile, fixed arguments.
            [MAKE, "--no-print-directory", "run", f"PORT={port}"],
            cwd=ROOT,
            env=make_env(tmp_path, DEBUG="0"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # runserver's autoreloader is a child: stop the group
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"make run did not serve within 120 s:\n{log.read_text()}")
        yield port, log.read_text()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@pytest.mark.slow
def test_debug_off_make_run_serves_every_url_its_banner_prints(served_with_debug_off):
    port, output = served_with_debug_off
    assert "DEBUG off" in output
    assert "UserWarning" not in output  # such as WhiteNoise's about a missing STATIC_ROOT
    assert "alice@example.com" in output
    assert "demo-pass-2026" in output
    urls = re.findall(rf"http://127\.0\.0\.1:{port}/\S*", output)
    paths = {url.split(str(port), 1)[1] for url in urls}
    assert {"/", "/compare/", "/app/", "/api/docs/", "/admin/"} <= paths
    for url in urls:
        status, content_type, body = _get(url)
        assert status == 200, (url, status)  # /admin/ lands on its sign-in page
        assert content_type.startswith("text/html"), url
        # The pages' own stylesheets load: no missing static manifest with DEBUG off.
        for href in STYLESHEET.findall(body):
            assert _get(f"http://127.0.0.1:{port}{href}")[0] == 200, (url, href)
    status, content_type, body = _get(f"http://127.0.0.1:{port}/api/no-such-thing/")
    assert (status, content_type) == (404, "application/json")
