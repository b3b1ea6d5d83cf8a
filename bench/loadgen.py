"""
Drive one URL for a fixed time with a fixed number of connections; report rps and latency.

wrk is the load generator: written in C, it leaves the two cores to the server. A Lua
script makes it count every response that is not a 200 (wrk's own counter misses 3xx, so a
redirect to the login page would otherwise pass as a fast success) and print its summary
as one machine-readable line. Without wrk a Python generator stands in; it takes a good
share of the two cores from the server it measures, so its results are labelled as less
accurate everywhere they appear.
"""

import http.client
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .stats import percentile

WRK_INSTALL_HINT = "install wrk for accurate numbers: apt-get install -y wrk (Debian/Ubuntu)"
PYTHON_LABEL = "python (fallback: the client takes CPU from the server, less accurate)"

RESULT_MARK = "BENCH_RESULT "

WRK_SCRIPT = r"""
-- Count responses that are not 200 across wrk's threads; print one JSON summary line.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_ok = 0
  last_bad_status = 0
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
    last_bad_status = status
  end
end

function done(summary, latency, requests)
  local total_not_ok = 0
  local bad_status = 0
  for _, thread in ipairs(threads) do
    total_not_ok = total_not_ok + thread:get("not_ok")
    if thread:get("last_bad_status") ~= 0 then
      bad_status = thread:get("last_bad_status")
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "not_ok": %d, "bad_status": %d, '
      .. '"p50_us": %d, "p99_us": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, total_not_ok, bad_status,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class LoadResult:
    """What one load run measured. ``not_ok`` counts responses other than 200."""

    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p99_ms: float
    not_ok: int = 0
    bad_status: int = 0
    socket_errors: int = 0
    tool: str = "wrk"
    # CPU per request on the server side during the run (``bench.cpu.per_request``),
    # filled in by the runner, which knows the server's processes.
    server_cpu: dict | None = None

    def as_dict(self) -> dict:
        return asdict(self)


class LoadError(Exception):
    """The load generator could not run or its output could not be read."""


def wrk_path() -> str | None:
    return shutil.which("wrk")


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _to_ms(number: str, unit: str) -> float:
    return float(number) * _UNITS_MS[unit]


def parse_wrk_output(text: str) -> LoadResult:
    """
    Read wrk's output: the script's summary line when present, else wrk's own text
    (``--latency``'s distribution, ``Requests/sec``, ``Non-2xx or 3xx responses``).
    """
    for line in text.splitlines():
        if line.startswith(RESULT_MARK):
            data = json.loads(line[len(RESULT_MARK) :])
            duration_s = data["duration_us"] / 1e6
            if duration_s <= 0:
                raise LoadError("wrk reported a zero duration")
            return LoadResult(
                requests=data["requests"],
                duration_s=duration_s,
                rps=data["requests"] / duration_s,
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                not_ok=data["not_ok"],
                bad_status=data["bad_status"],
                socket_errors=data["socket_errors"],
            )

    totals = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", text)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.MULTILINE)
    if not (totals and rps and p50 and p99):
        raise LoadError(f"could not read wrk's output (run with --latency?):\n{text[-800:]}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    return LoadResult(
        requests=int(totals.group(1)),
        duration_s=_to_ms(totals.group(2), totals.group(3)) / 1000,
        rps=float(rps.group(1)),
        p50_ms=_to_ms(*p50.groups()),
        p99_ms=_to_ms(*p99.groups()),
        not_ok=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def wrk_command(
    url: str,
    *,
    script: Path,
    headers: dict[str, str] | None,
    duration_s: int,
    connections: int,
    threads: int,
) -> list[str]:
    command = [
        wrk_path() or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, int(duration_s))}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(script),
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    return [*command, url]


def run_wrk(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    duration_s: int,
    connections: int,
    threads: int,
) -> LoadResult:
    """Run wrk against ``url`` (loopback) and return what it measured."""
    if not url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise LoadError(f"refusing to load a non-loopback address: {url}")
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "count.lua"
        script.write_text(WRK_SCRIPT)
        command = wrk_command(
            url,
            script=script,
            headers=headers,
            duration_s=duration_s,
            connections=connections,
            threads=threads,
        )
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=duration_s + 30, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise LoadError(f"wrk did not finish within {duration_s + 30} s") from exc
    if done.returncode != 0:
        raise LoadError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return parse_wrk_output(done.stdout)


def run_python(
    *,
    host: str,
    port: int,
    path: str,
    headers: dict[str, str] | None = None,
    duration_s: float,
    connections: int,
) -> LoadResult:
    """Drive ``path`` with one thread per connection for ``duration_s`` seconds."""
    deadline = time.perf_counter() + duration_s
    latencies: list[list[float]] = [[] for _ in range(connections)]
    failures = [{"not_ok": 0, "bad_status": 0, "socket_errors": 0} for _ in range(connections)]

    def worker(index: int) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            connection = http.client.HTTPConnection(host, port, timeout=5)
            try:
                connection.request("GET", path, headers=dict(headers or {}))
                answer = connection.getresponse()
                answer.read()
                if answer.status != 200:
                    failures[index]["not_ok"] += 1
                    failures[index]["bad_status"] = answer.status
            except OSError:
                failures[index]["socket_errors"] += 1
                continue
            finally:
                connection.close()
            latencies[index].append((time.perf_counter() - started) * 1000)

    begun = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - begun
    every = [ms for per_thread in latencies for ms in per_thread]
    if not every:
        raise LoadError(f"no request to http://{host}:{port}{path} completed")
    not_ok = sum(f["not_ok"] for f in failures)
    return LoadResult(
        requests=len(every),
        duration_s=elapsed,
        rps=len(every) / elapsed,
        p50_ms=percentile(every, 50),
        p99_ms=percentile(every, 99),
        not_ok=not_ok,
        bad_status=next((f["bad_status"] for f in failures if f["bad_status"]), 0),
        socket_errors=sum(f["socket_errors"] for f in failures),
        tool="python",
    )


class LoadGenerator:
    """wrk when it is installed, else the Python fallback; same call for both."""

    def __init__(self, *, connections: int, threads: int, force_python: bool = False):
        self.connections = connections
        self.threads = threads
        self.tool = "python" if force_python or wrk_path() is None else "wrk"

    @property
    def label(self) -> str:
        return "wrk" if self.tool == "wrk" else PYTHON_LABEL

    def run(self, *, host: str, port: int, path: str, headers=None, duration_s: int) -> LoadResult:
        if self.tool == "wrk":
            return run_wrk(
                f"http://{host}:{port}{path}",
                headers=headers,
                duration_s=duration_s,
                connections=self.connections,
                threads=self.threads,
            )
        return run_python(
            host=host,
            port=port,
            path=path,
            headers=headers,
            duration_s=duration_s,
            connections=self.connections,
        )
