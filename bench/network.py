"""
A simulated datacenter link for the benchmark's network-hop rows (``bench.rtt``): Redis and
PostgreSQL of the run's own, in a network namespace of its own, reached over a veth pair,
with every packet's trip delayed.

The delay: ``tc netem`` on the veth ends was the plan, but this kernel has no netem qdisc
(see ``bench.delay_relay``, which says what was tried); the namespace runs
``bench.delay_relay`` instead, between the veth address and the servers on the namespace's
loopback, holding each chunk for half the round trip in each direction. ``probe_rtt_ms()``
measures what the link adds with Redis PINGs, so the rows show the round trip they really
ran over, and the relay's CPU per request is reported beside them.

Everything stays on this machine: the namespace, its two addresses (a /30 in 10.213.0.0/16)
and its servers are made for the run and removed after it, even when it fails. It needs
root (``ip netns``) and Debian's ``redis-server`` and PostgreSQL server binaries;
``unavailable()`` says what is missing, and the benchmark reports the rows as unavailable
with that reason instead of measuring something else.
"""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .processes import ROOT

REDIS_PORT = 6379
POSTGRES_PORT = 5432
# The servers' own ports, on the namespace's loopback, behind the relay.
REDIS_INNER_PORT = 16379
POSTGRES_INNER_PORT = 15432


def _run(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed programs, arguments of our own
        list(command), check=check, capture_output=True, text=True, timeout=60
    )


def postgres_bin() -> Path | None:
    """The directory of Debian's PostgreSQL server binaries (the newest), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


def unavailable() -> str | None:
    """Why the link cannot be made here, or None if it can."""
    if os.geteuid() != 0:
        return "needs root (ip netns, veth)"
    for program in ("ip", "redis-server", "runuser", "pg_isready"):
        if shutil.which(program) is None:
            return f"{program} is not installed"
    if postgres_bin() is None:
        return "the PostgreSQL server is not installed (apt-get install postgresql)"
    return None


class DelayedLink:
    """
    A namespace with Redis and PostgreSQL behind a veth pair, as a ``with`` block.

    ``set_rtt(ms)`` changes the delay while everything runs (open connections included).
    """

    def __init__(self, *, work_dir: Path | None = None):
        tag = os.getpid() % 100_000
        self.namespace = f"bench-rtt-{tag}"
        self.host_end, self.inner_end = f"brtt{tag}h", f"brtt{tag}n"
        subnet = 4 * (tag % 64)
        third = (tag // 64) % 250
        self.host_address = f"10.213.{third}.{subnet + 1}"
        self.address = f"10.213.{third}.{subnet + 2}"
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="bench-rtt-"))
        # Each server's process group, and the signal that stops it at once.
        self.processes: list[tuple[subprocess.Popen, int]] = []
        self.delay_file = self.work_dir / "one-way-delay-ms"
        self.rtt_ms = 0.0
        self._relay_pid: int | None = None

    # --- what the benchmark uses -----------------------------------------------------
    @property
    def redis_url(self) -> str:
        return f"redis://{self.address}:{REDIS_PORT}/0"

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@{self.address}:{POSTGRES_PORT}/postgres"

    def set_rtt(self, rtt_ms: float) -> None:
        """Delay each direction by half of ``rtt_ms`` (0: no delay, the hop alone)."""
        self.delay_file.write_text(f"{rtt_ms / 2:g}\n")
        time.sleep(0.2)  # the relay reads the file every 50 ms
        self.rtt_ms = rtt_ms

    @property
    def relay_pid(self) -> int | None:
        """The relay's process id (its CPU is reported), once it runs."""
        return self._relay_pid

    def probe_rtt_ms(self, pings: int = 20) -> float:
        """The median time of a Redis PING over the link, in ms."""
        with socket.create_connection((self.address, REDIS_PORT), timeout=5) as sock:
            times = []
            for _ in range(pings):
                started = time.perf_counter()
                sock.sendall(b"PING\r\n")
                answer = b""
                while not answer.endswith(b"\r\n"):
                    answer += sock.recv(64)
                times.append((time.perf_counter() - started) * 1000)
        times.sort()
        return times[len(times) // 2]

    # --- making and removing it ------------------------------------------------------
    def __enter__(self):
        try:
            self._make_link()
            self._start_redis()
            self._start_postgres()
            self._start_relay()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _inside(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        return _run("ip", "netns", "exec", self.namespace, *command, check=check)

    def _make_link(self) -> None:
        _run("ip", "netns", "add", self.namespace)
        _run("ip", "link", "add", self.host_end, "type", "veth", "peer", "name", self.inner_end)
        _run("ip", "link", "set", self.inner_end, "netns", self.namespace)
        _run("ip", "addr", "add", f"{self.host_address}/30", "dev", self.host_end)
        _run("ip", "link", "set", self.host_end, "up")
        self._inside("ip", "addr", "add", f"{self.address}/30", "dev", self.inner_end)
        self._inside("ip", "link", "set", self.inner_end, "up")
        self._inside("ip", "link", "set", "lo", "up")
        self.delay_file.write_text("0\n")

    def _spawn(self, *command: str, log: str, stop_signal: int = signal.SIGTERM, cwd=None) -> None:
        with (self.work_dir / log).open("w") as out:
            process = subprocess.Popen(  # noqa: S603 - fixed programs, arguments of our own
                ["ip", "netns", "exec", self.namespace, *command],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=cwd,
            )
        self.processes.append((process, stop_signal))

    def _start_redis(self) -> None:
        self._spawn(
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(REDIS_INNER_PORT),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.work_dir),
            log="redis.log",
        )

    def _start_postgres(self) -> None:
        binaries = postgres_bin()
        data = self.work_dir / "pgdata"
        data.mkdir()
        shutil.chown(self.work_dir, "postgres")
        shutil.chown(data, "postgres")
        as_postgres = ("runuser", "-u", "postgres", "--")
        _run(
            *as_postgres, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"
        )
        self._spawn(
            *as_postgres,
            str(binaries / "postgres"),
            "-D",
            str(data),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"port={POSTGRES_INNER_PORT}",
            "-c",
            f"unix_socket_directories={data}",
            # A throwaway database: durability would only measure this machine's disk.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            log="postgres.log",
            # Immediate shutdown: nothing in a throwaway database is worth a checkpoint.
            stop_signal=signal.SIGQUIT,
        )

    def _start_relay(self) -> None:
        self._spawn(
            sys.executable,
            "-m",
            "bench.delay_relay",
            "--delay-file",
            str(self.delay_file),
            "--forward",
            f"{self.address}:{REDIS_PORT}=127.0.0.1:{REDIS_INNER_PORT}",
            "--forward",
            f"{self.address}:{POSTGRES_PORT}=127.0.0.1:{POSTGRES_INNER_PORT}",
            log="relay.log",
            cwd=ROOT,
        )
        self._relay_pid = self.processes[-1][0].pid
        deadline = time.monotonic() + 30
        while not (self._redis_answers() and self._postgres_answers()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Redis or PostgreSQL did not start; see {self.work_dir}")
            if any(p.poll() is not None for p, _ in self.processes):
                raise RuntimeError(f"a server exited; see {self.work_dir}")
            time.sleep(0.2)

    def _redis_answers(self) -> bool:
        try:
            self.probe_rtt_ms(pings=1)
        except OSError:
            return False
        return True

    def _postgres_answers(self) -> bool:
        probe = ("pg_isready", "-q", "-h", self.address, "-p", str(POSTGRES_PORT))
        return _run(*probe, check=False).returncode == 0

    def close(self) -> None:
        """Stop the servers, remove the namespace and the veth pair, delete the files."""
        for process, stop_signal in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, stop_signal)
        for process, _ in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.processes = []
        leftover = _run("ip", "netns", "pids", self.namespace, check=False).stdout.split()
        for pid in leftover:
            _run("kill", "-9", pid, check=False)
        _run("ip", "link", "del", self.host_end, check=False)
        _run("ip", "netns", "del", self.namespace, check=False)
        shutil.rmtree(self.work_dir, ignore_errors=True)
