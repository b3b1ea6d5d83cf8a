"""
Processes a test starts: free ports and ``manage.py`` in a subprocess (the project's own
helpers in ``bench.processes``, shared with the benchmark and the scripts; gunicorn is
there too), the environment such a process gets, and a redis-server of the test's own.
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis as redis_lib

from bench.processes import LOOPBACK, free_port, free_ports, manage

__all__ = ["PrivateRedis", "child_env", "free_port", "free_ports", "manage"]

# What makes a child use Redis. They go together: sessions in a cache
# (SESSION_BACKEND=cache) refuse to start without REDIS_URL.
REDIS_VARIABLES = ("REDIS_URL", "SESSION_BACKEND")


def child_env(*, redis: bool = True, drop: tuple[str, ...] = (), **values: str) -> dict[str, str]:
    """
    Return this process's environment for a child process: without the variables in
    ``drop``, without Redis unless ``redis``, and with ``values`` set.
    """
    dropped = {*drop, *(() if redis else REDIS_VARIABLES)}
    env = {name: value for name, value in os.environ.items() if name not in dropped}
    env.update(values)
    return env


class PrivateRedis:
    """
    A redis-server of the test's own on a free loopback port, without persistence.

    ``stop()`` shuts it down (clients then get "connection refused") and ``start()`` brings
    it back on the same port and URL, empty, as after a crash of a server that saves nothing.
    Being nobody else's server, its db 0 is free to use.
    """

    def __init__(self, *, directory: Path, port: int | None = None):
        self.directory = directory
        self.port = port or free_port()
        self.url = f"redis://{LOOPBACK}:{self.port}/0"
        self._process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, *, timeout: float = 10) -> None:
        """Start the server (again) and return once it answers PING."""
        if self.running:
            return
        command = [
            shutil.which("redis-server"),
            "--bind", LOOPBACK,
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
        ]  # fmt: skip
        with (self.directory / "redis.log").open("a") as log:
            self._process = subprocess.Popen(  # noqa: S603 - fixed arguments.
                command, stdout=log, stderr=subprocess.STDOUT
            )
        client = redis_lib.Redis(host=LOOPBACK, port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                if client.ping():
                    return
            except redis_lib.ConnectionError:
                time.sleep(0.05)
        self.stop()
        log_tail = (self.directory / "redis.log").read_text()[-2000:]
        pytest.fail(f"redis-server did not start on port {self.port}:\n{log_tail}")

    def stop(self, *, timeout: float = 10) -> None:
        """Stop the server and wait until it has exited (and closed its port)."""
        if not self.running:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=timeout)
