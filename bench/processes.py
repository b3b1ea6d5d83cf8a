"""
Processes of our own on loopback: a free port, ``manage.py`` in a subprocess, and a server
(gunicorn serving the site, or another one: ``Server``) started until it answers, then
stopped with everything it started.

One module for the benchmark (``bench.server``), the scripts (``check_deploy``,
``loadtest``, ``cluster``) and the test suite (through ``tests.support.processes``). It
lives in ``bench`` because the benchmark is the package that already serves the site on
loopback and measures it there; a top-level package for one module would be a folder
without a concept of its own (STYLE.md, "Layout"). It imports nothing but the standard
library, and ``bench/__init__.py`` imports nothing at all, so the scripts import it before
Django is set up and the tests import it under any settings.

A server runs in a session of its own, so gunicorn's master and the workers it forks form one
process group: stopping it signals the master, waits a bounded time, then kills whatever
is left of the group. The master is not reaped until then, so the group's id cannot have
been reused by someone else's process when it is killed.
"""

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

LOOPBACK = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
SITE = "config.wsgi:application"


class ServerError(Exception):
    """The server did not start or did not answer in time; the message says why."""


class ManageError(Exception):
    """A ``manage.py`` command failed or did not finish; the message carries its output."""


def free_port() -> int:
    """Return a TCP port on loopback that the OS reports free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def free_ports(count: int) -> tuple[int, ...]:
    """Return ``count`` different free loopback ports."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return tuple(ports)


def output_tail(text: str, lines: int = 20) -> str:
    """Return the last ``lines`` lines of a process's output."""
    return "\n".join(text.splitlines()[-lines:])


def manage(
    *args: str, env: dict[str, str], timeout: float = 120, check: bool = False
) -> subprocess.CompletedProcess:
    """
    Run ``manage.py <args>`` from the repository root with exactly ``env`` and return it
    finished, its output captured as text. With ``check``, raise ManageError unless it
    exited 0; without, only a timeout raises (``subprocess.TimeoutExpired``).
    """
    command = " ".join(("manage.py", *args))
    try:
        done = subprocess.run(  # noqa: S603 - our own manage.py, arguments from our code.
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        if check:
            raise ManageError(f"{command}: no answer within {timeout:.0f} s") from exc
        raise
    if check and done.returncode:
        raise ManageError(
            f"{command} exited with {done.returncode}:\n{output_tail(done.stdout + done.stderr)}"
        )
    return done


class Server:
    """
    A server of ours on loopback, its output in ``log_path``, in a session of its own. As a
    context manager: started and answering ``ready_path`` inside the block, stopped on
    leaving it. A subclass says how to start it (``command``) and what it is (``program``).
    """

    program = "server"

    def __init__(
        self,
        *,
        env: dict[str, str],
        log_path: Path,
        port: int | None = None,
        ready_path: str = "/healthz",
        ready_headers: dict[str, str] | None = None,
        start_timeout: float = 30.0,
        stop_signal: int = signal.SIGTERM,
        stop_timeout: float = 15.0,
    ):
        self.env = env
        self.log_path = log_path
        self.host = LOOPBACK
        self.port = port or free_port()
        self.ready_path = ready_path
        self.ready_headers = ready_headers or {}
        self.start_timeout = start_timeout
        # SIGTERM is gunicorn's graceful shutdown (SIGINT its quick one) and HAProxy's stop.
        self.stop_signal = stop_signal
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        self.start()
        try:
            self.wait_until_serving()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self, *, extra_env: dict[str, str] | None = None) -> None:
        """Start the master in a session of its own; return at once (see wait_until_serving)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments.
                self.command(),
                cwd=ROOT,
                env={**self.env, **(extra_env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def exited(self) -> bool:
        """Whether the master has exited (it is left unreaped until ``wait``)."""
        if self.process is None:
            return False
        if self.process.returncode is not None:
            return True
        flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
        try:
            return os.waitid(os.P_PID, self.process.pid, flags) is not None
        except ChildProcessError:  # Reaped by someone else: gone all the same.
            return True

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.returncode

    def answers(self, path: str, headers: dict[str, str] | None = None) -> bool:
        """Whether GET ``path`` answers 200 now."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=2)
        try:
            connection.request("GET", path, headers=headers or {})
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def wait_until_serving(self, *, ready: Callable[[], bool] = lambda: True) -> None:
        """
        Return once ``ready()`` holds and ``ready_path`` answers 200; raise ServerError
        (the server stopped) if the master exits or the start timeout runs out.
        """
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.exited():
                self.wait()
                raise ServerError(
                    f"{self.program} exited with {self.returncode}: {self.last_error()} "
                    f"(log: {self.log_path})"
                )
            if ready() and self.answers(self.ready_path, self.ready_headers):
                return
            time.sleep(0.05)
        self.stop()
        raise ServerError(
            f"{self.program} did not answer {self.ready_path} within {self.start_timeout:.0f} s: "
            f"{self.last_error()} (log: {self.log_path})"
        )

    def stop(self, *, wait: bool = True) -> None:
        """Signal the master (it stops its workers); with ``wait``, until all have gone."""
        if self.process is not None and not self.exited():
            os.kill(self.process.pid, self.stop_signal)
        if wait:
            self.wait()

    def wait(self) -> None:
        """
        Wait up to ``stop_timeout`` for a stopping master, then kill what is left of its
        process group (workers it left behind, or all of it if it did not go) and reap it.
        """
        if self.process is None or self.process.returncode is not None:
            return
        deadline = time.monotonic() + self.stop_timeout
        while not self.exited() and time.monotonic() < deadline:
            time.sleep(0.05)
        # Usually the group has gone with its master, and there is nothing left to kill.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=self.stop_timeout)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return output_tail(self.log_path.read_text(errors="replace"), lines)
        except OSError:
            return ""

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


class Gunicorn(Server):
    """gunicorn serving ``app`` with ``workers`` sync workers (``extra_args``: more options)."""

    program = "gunicorn"

    def __init__(
        self,
        *,
        app: str = SITE,
        workers: int = 2,
        config: str | None = None,
        log_level: str = "info",
        extra_args: tuple[str, ...] = (),
        **options,
    ):
        super().__init__(**options)
        self.app = app
        self.workers = workers
        self.config = config
        self.log_level = log_level
        self.extra_args = extra_args

    def command(self) -> list[str]:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            self.app,
            f"--bind={self.host}:{self.port}",
            f"--workers={self.workers}",
            "--worker-class=sync",
            "--timeout=30",
            "--graceful-timeout=5",
            f"--log-level={self.log_level}",
            "--error-logfile=-",
        ]
        if self.config:
            command.append(f"--config={self.config}")
        return [*command, *self.extra_args]
