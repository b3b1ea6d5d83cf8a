"""
Serve the site with gunicorn on loopback for one mode, the same command for every mode;
or, for the ASGI rows, with uvicorn.

Only the environment differs between modes. Starting, waiting and stopping are
``bench.processes.Gunicorn``'s; this adds the benchmark's hooks: wait for every worker,
and count the calls of chosen requests in the workers themselves. uvicorn has no such
hooks: its rows are measured the same way but not counted.
"""

import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from .processes import Gunicorn, Server
from .stats import median
from .transport import HttpTransport

BENCH_SETTINGS = "config.settings.bench"


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


def bench_server_options(env: dict[str, str], settings_module: str) -> dict:
    """What every benchmark server runs with: the bench settings, and a quick stop."""
    return {
        "env": {**env, "DJANGO_SETTINGS_MODULE": settings_module},
        # The load is over when a server stops: nothing is left to finish, and a graceful
        # SIGTERM would wait out the workers' idle poll.
        "stop_signal": signal.SIGINT,
        "stop_timeout": 10.0,
    }


class BenchServerBlock:
    """
    A benchmark server as a ``with`` block: started on entering (``start`` returns once it
    serves). Leaving it only signals the server when ``wait_on_exit`` is False; the caller
    then calls ``wait()`` before anything it measures next.
    """

    wait_on_exit = True

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop(wait=self.wait_on_exit)


class GunicornServer(BenchServerBlock, Gunicorn):
    """
    A gunicorn master with ``workers`` sync workers and the benchmark's hooks
    (``bench.gunicorn_conf``), as a context manager: ready once every worker has loaded the
    site, stopped quickly (SIGINT) on leaving the block.
    """

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
        extra_args: tuple[str, ...] = (),
    ):
        super().__init__(
            log_path=log_path,
            port=port,
            workers=workers,
            extra_args=extra_args,
            config="python:bench.gunicorn_conf",
            log_level="warning",
            ready_path=ready_path,
            start_timeout=start_timeout,
            **bench_server_options(env, settings_module),
        )
        self.run_dir: Path | None = None
        self.count_dir: Path | None = None

    def start(self) -> None:
        """Start gunicorn; return once every worker has loaded the site and it answers."""
        self.run_dir = Path(tempfile.mkdtemp(prefix="bench-server-"))
        ready_dir, self.count_dir = self.run_dir / "ready", self.run_dir / "counts"
        ready_dir.mkdir()
        self.count_dir.mkdir()
        super().start(
            extra_env={"BENCH_READY_DIR": str(ready_dir), "BENCH_COUNT_DIR": str(self.count_dir)}
        )
        try:
            self.wait_until_serving(ready=lambda: len(list(ready_dir.iterdir())) >= self.workers)
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

    def wait(self) -> None:
        """Wait for a stopping server to exit (kill it if it does not go in time)."""
        super().wait()
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None


def worker_pids(supervisor_pid: int) -> list[int]:
    """The pids of the worker processes uvicorn's supervisor has spawned (multiprocessing)."""
    pids = []
    children = Path(f"/proc/{supervisor_pid}/task/{supervisor_pid}/children")
    for pid in children.read_text().split():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        # Not multiprocessing's resource tracker, the supervisor's other child.
        if b"spawn_main" in command:
            pids.append(int(pid))
    return sorted(pids)


def pin_to_cpu(pid: int, cpu: int) -> None:
    """Run every thread of ``pid`` on ``cpu``; threads it starts later inherit that."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.sched_setaffinity(int(task.name), {cpu})


class UvicornServer(BenchServerBlock, Server):
    """
    uvicorn serving the site's ASGI application (``config.asgi``) with ``workers`` worker
    processes, uvloop and httptools, no access log; the same context-manager protocol as
    GunicornServer. Ready once it answers; the warm-up that precedes every measurement
    reaches every worker.

    With ``pin_workers`` each worker process runs on one CPU of its own, as ``taskset``
    or systemd's ``CPUAffinity=`` would place it. A worker hands each request's sync code
    to a thread and waits for it in the event loop, several times a request; the two share
    one GIL, so a second core gains them nothing, and on this 2-vCPU virtual machine a
    hand-off between two CPUs costs about five times one on the same CPU (measured by
    ``bench.micro``'s thread hop: the guide's ASGI section).
    """

    program = "uvicorn"

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
        pin_workers: bool = False,
    ):
        super().__init__(
            log_path=log_path,
            port=port,
            ready_path=ready_path,
            start_timeout=start_timeout,
            **bench_server_options(env, settings_module),
        )
        self.workers = workers
        self.pin_workers = pin_workers

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            f"--host={self.host}",
            f"--port={self.port}",
            f"--workers={self.workers}",
            "--loop=uvloop",
            "--http=httptools",
            "--lifespan=off",
            "--no-access-log",
            "--log-level=warning",
        ]

    def start(self) -> None:
        super().start()
        try:
            if self.pin_workers:
                self._pin_workers()
            self.wait_until_serving()
        except BaseException:
            self.stop(wait=True)
            raise

    def _pin_workers(self, timeout: float = 10.0) -> None:
        # As soon as the supervisor has spawned them: the threads a worker starts later
        # (Django's, the fast path's) inherit its CPU.
        cpus = sorted(os.sched_getaffinity(0))
        deadline = time.monotonic() + timeout
        while len(pids := worker_pids(self.process.pid)) < self.workers:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"uvicorn started {len(pids)} of {self.workers} workers")
            time.sleep(0.01)
        for number, pid in enumerate(pids):
            pin_to_cpu(pid, cpus[number % len(cpus)])

    def count(self, path: str, headers: dict[str, str] | None, requests: int) -> dict:
        raise CountError("calls are counted by gunicorn's request hooks, which uvicorn has not")


SERVERS = {"gunicorn": GunicornServer, "uvicorn": UvicornServer}
