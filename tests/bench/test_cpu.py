"""Server CPU per request (bench.cpu): read from /proc for the app, INFO for Redis."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis as redis_lib

from bench.cpu import CpuReading, per_request, process_tree_cpu_s, redis_cpu_s
from bench.stats import median_cpu
from tests.support.services import TEST_REDIS_URL

needs_proc = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="process CPU is read from Linux's /proc"
)

# A parent that only sleeps, with a child that burns 0.4 s of CPU: the shape of a gunicorn
# master and its worker. The child then sleeps (a live worker) or exits and is reaped (a
# worker the master replaced); the parent prints the child's pid once it is in that state.
BURN = "import time\\nend = time.process_time() + 0.4\\nwhile time.process_time() < end: pass\\n"
PARENT = f"""
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "{BURN}time.sleep(60)"])
print(child.pid, flush=True)
time.sleep(60)
"""
REAPING_PARENT = f"""
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "{BURN}"])
child.wait()
print(child.pid, flush=True)
time.sleep(60)
"""


def _own_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _parent(script: str):
    """Run ``script``; yield its process and the pid of the child it prints."""
    parent = subprocess.Popen(  # noqa: S603 - our own fixed script
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    try:
        yield parent, int(parent.stdout.readline())
    finally:
        parent.kill()
        parent.wait()


@needs_proc
def test_the_app_s_cpu_includes_its_workers_not_only_the_master():
    with _parent(PARENT) as (parent, child_pid):
        deadline = time.monotonic() + 20
        # /proc counts whole ticks: the child's 0.4 s may read as 0.39 for good.
        while _own_cpu_s(child_pid) < 0.38 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process_tree_cpu_s(parent.pid) >= _own_cpu_s(parent.pid) + 0.35


@needs_proc
def test_a_worker_that_exits_keeps_its_cpu_in_the_app_s_account():
    # Once reaped, the child's time is only in the parent's account of its children.
    with _parent(REAPING_PARENT) as (parent, child_pid):
        assert not Path(f"/proc/{child_pid}").exists()
        assert process_tree_cpu_s(parent.pid) >= _own_cpu_s(parent.pid) + 0.35


@needs_proc
def test_a_server_that_has_gone_reads_as_not_measured():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert process_tree_cpu_s(gone.pid) is None


@pytest.mark.redis
def test_redis_cpu_is_the_server_s_own_account_and_grows_with_its_work():
    client = redis_lib.Redis.from_url(TEST_REDIS_URL)
    before = redis_cpu_s(client)
    pipe = client.pipeline(transaction=False)
    for _ in range(20_000):
        pipe.get("bench-cpu-test")
    pipe.execute()
    after = redis_cpu_s(client)
    assert 0 < before < after


def test_redis_cpu_without_a_server_is_not_measured():
    assert redis_cpu_s(None) is None
    unreachable = redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    assert redis_cpu_s(unreachable) is None


def test_per_request_divides_each_side_s_cpu_by_the_requests():
    cost = per_request(CpuReading(1.0, 2.0), CpuReading(1.5, 2.1), 1000)
    assert cost == pytest.approx({"app_us": 500.0, "redis_us": 100.0, "total_us": 600.0})


def test_a_side_that_was_not_measured_is_none_not_zero():
    without_redis = per_request(CpuReading(1.0, None), CpuReading(1.5, None), 1000)
    assert without_redis == pytest.approx({"app_us": 500.0, "redis_us": None, "total_us": 500.0})
    without_app = per_request(CpuReading(None, 2.0), CpuReading(None, 2.1), 1000)
    assert without_app["app_us"] is None
    assert without_app["total_us"] is None
    assert per_request(CpuReading(1.0, 2.0), CpuReading(1.5, 2.1), 0)["app_us"] is None


def test_the_summary_is_the_median_of_each_side_over_the_runs():
    runs = [
        {"app_us": 500.0, "redis_us": 30.0, "total_us": 530.0},
        {"app_us": 700.0, "redis_us": None, "total_us": 700.0},
        {"app_us": 600.0, "redis_us": 40.0, "total_us": 640.0},
        None,
    ]
    # The total is the sum of the sides' medians, not the median of the runs' totals (640).
    assert median_cpu(runs) == {"app_us": 600.0, "redis_us": 35.0, "total_us": 635.0}
    assert median_cpu([None, None]) is None
