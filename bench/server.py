"""
Serve the site with gunicorn on loopback for one mode, the same command for every mode.

Only the environment differs between modes. The server is started as our own child and
stopped by its process id; its log goes to a file so a failed start can be explained.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .stats import median
from .transport import LOOPBACK, HttpTransport

ROOT = Path(__file__).resolve().parent.parent
BENCH_SETTINGS = "config.settings.bench"


class ServerError(Exception):
    """The server did not start or did not answer its health check in time."""


class CountError(Exception):
    """Counting calls per request failed; the message says why."""


def summarize_counts(records: list[dict]) -> dict:
    """The median, min and max queries and Redis round trips over counted requests."""
    summary = {}
    for what in ("queries", "redis_calls"):
        values = [record[what] for record in records]
        summary[what] = median(values)
        summary[f"{what}_min"] = min(values)
        summary[f"{what}_max"] = max(values)
    summary["requests"] = len(records)
    return summary


def free_port() -> int:
    """Return a TCP port on loopback that the OS reports free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def gunicorn_command(*, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--config",
        "python:bench.gunicorn_conf",
        "--bind",
        f"{LOOPBACK}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
        "--error-logfile",
        "-",
    ]


class GunicornServer:
    """A gunicorn master with ``workers`` sync workers, as a context manager."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        workers: int,
        log_path: Path,
        port: int | None = None,
        ready_path: str = "/healthz",
        start_timeout: float = 30.0,
        settings_module: str = BENCH_SETTINGS,
    ):
        self.env = {**env, "DJANGO_SETTINGS_MODULE": settings_module}
        self.workers = workers
        self.log_path = log_path
        self.port = port or free_port()
        self.ready_path = ready_path
        self.start_timeout = start_timeout
        self.host = LOOPBACK
        self.process: subprocess.Popen | None = None
        self.run_dir: Path | None = None
        self.count_dir: Path | None = None
        # Leaving the ``with`` block only signals the server when this is False; the
        # caller then calls ``wait()`` before anything it measures next.
        self.wait_on_exit = True

    def __enter__(self) -> "GunicornServer":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop(wait=self.wait_on_exit)

    def last_error(self) -> str:
        """The exception that stopped the server, as its log shows it, or its last line."""
        try:
            lines = [
                line.strip() for line in self.log_path.read_text(errors="replace").splitlines()
            ]
        except OSError:
            return "no log"
        exception = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|ImproperlyConfigured)\b.*")
        found = [line for line in lines if exception.match(line)]
        if found:
            return found[-1]
        return next((line for line in reversed(lines) if line), "empty log")

    def start(self) -> None:
        """Start gunicorn; return once every worker has loaded the site and it answers."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.run_dir = Path(tempfile.mkdtemp(prefix="bench-server-"))
        ready_dir, self.count_dir = self.run_dir / "ready", self.run_dir / "counts"
        ready_dir.mkdir()
        self.count_dir.mkdir()
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            gunicorn_command(port=self.port, workers=self.workers),
            cwd=ROOT,
            env={
                **self.env,
                "BENCH_READY_DIR": str(ready_dir),
                "BENCH_COUNT_DIR": str(self.count_dir),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        try:
            self._wait_ready(ready_dir)
        except BaseException:
            self.stop(wait=True)
            raise

    def count(self, path: str, headers: dict[str, str] | None, requests: int) -> dict:
        """
        Send ``requests`` GETs to ``path`` one by one, each counted by the worker that
        serves it (see bench.gunicorn_conf); return the per-request median, min and max
        of queries and Redis round trips. Every answer must be a 200.
        """
        for old in self.count_dir.iterdir():
            old.unlink()
        transport = HttpTransport(host=self.host, port=self.port)
        for _ in range(requests):
            answer = transport.request(
                "GET", path, headers={**(headers or {}), "X-Bench-Count": "1"}
            )
            if answer.status != 200:
                raise CountError(f"GET {path} answered {answer.status} while counting")
        # A worker writes its record after the response has gone out: wait for the last.
        deadline = time.monotonic() + 10
        while True:
            records = [
                json.loads(line)
                for file in self.count_dir.iterdir()
                for line in file.read_text().splitlines()
            ]
            if len(records) >= requests or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if len(records) < requests:
            raise CountError(f"only {len(records)} of {requests} requests to {path} were counted")
        return summarize_counts(records)

    def _wait_ready(self, ready_dir: Path) -> None:
        transport = HttpTransport(host=self.host, port=self.port, timeout=2)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(
                    f"gunicorn exited with {self.process.returncode}: {self.last_error()} "
                    f"(log: {self.log_path})"
                )
            if len(list(ready_dir.iterdir())) >= self.workers:
                try:
                    if transport.request("GET", self.ready_path).status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.02)
        raise ServerError(
            f"gunicorn did not answer {self.ready_path} within {self.start_timeout:.0f} s: "
            f"{self.last_error()} (log: {self.log_path})"
        )

    def stop(self, *, wait: bool = True) -> None:
        """Stop the master (it stops its workers); with ``wait``, until it has gone."""
        if self.process is not None and self.process.poll() is None:
            # SIGINT is gunicorn's quick shutdown: the load is over, nothing is left to
            # finish, and a graceful SIGTERM would wait out the workers' idle poll.
            os.kill(self.process.pid, signal.SIGINT)
        if wait:
            self.wait()

    def wait(self) -> None:
        """Wait for a stopping server to exit (kill it if it does not go in time)."""
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None
