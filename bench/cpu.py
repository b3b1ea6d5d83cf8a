"""
CPU time the server side spends per request, read around each load run.

Requests per second say how many requests two busy cores get through; CPU time per request
says what one request costs, and where: in the app (gunicorn's master and workers, which
run Django and, with SQLite, the database too) and in the Redis server. The two answer the
same question from two sides, and the CPU split is what explains a ratio: a Redis mode's
request costs the app its Python work plus the round trip's system calls, and costs Redis
its own share.

- App: user + system time of the gunicorn master and its children, from ``/proc``
  (Linux). Elsewhere it is not measured (``None``).
- Redis: ``used_cpu_user`` + ``used_cpu_sys`` from ``INFO cpu``: the server's own account,
  so it is right for a Redis on another machine too. Everything the server did in the
  window counts; the benchmark's servers are its only clients during a run.
- A PostgreSQL server's CPU is not counted (its backends are other processes, possibly
  on another machine): for modes that query PostgreSQL the app's figure is not the whole
  cost, and the report says so.

The kernel accounts process time in clock ticks (10 ms at 100 Hz): reading three processes
at each end of a run can be off by a few ticks, about 1 % of a 3-second run of two busy
workers and a few % of a quick run's 1-second one.

Redis's own background work (its timer, ten times a second) is spread over a run's
requests too: it shows as 0-1 us per request even for modes that send Redis nothing.
"""

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces: split after it.
    return text.rpartition(")")[2].split()


def process_tree_cpu_s(root_pid: int) -> float | None:
    """
    User + system seconds of ``root_pid`` and its children, live and exited (a gunicorn
    master and its workers), or None where ``/proc`` cannot tell (not Linux, or the
    process is gone).

    A worker that exits between two readings is not lost: once the master has reaped it,
    its time is in the master's ``cutime``/``cstime``, and before that it is still listed.
    """
    fields = _stat_fields(root_pid)
    if fields is None:
        return None
    # After the name (field 2 of proc(5)) field N is at index N - 3: ppid (4) at 1,
    # utime (14), stime (15), cutime (16) and cstime (17) at 11 to 14.
    ticks = sum(int(value) for value in fields[11:15])
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        child = _stat_fields(int(entry.name))
        if child is not None and int(child[1]) == root_pid:
            ticks += int(child[11]) + int(child[12])
    return ticks / CLOCK_TICKS


def redis_cpu_s(client) -> float | None:
    """The Redis server's user + system seconds (``INFO cpu``), or None if it cannot say."""
    if client is None:
        return None
    import redis

    try:
        info = client.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    except (redis.RedisError, KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class CpuReading:
    """Cumulative CPU seconds at one instant; None where that side is not measured."""

    app_s: float | None
    redis_s: float | None


class CpuMeter:
    """Read the server side's CPU before and after a load run; see ``per_request``."""

    def __init__(self, *, server_pid: int, redis_client=None):
        self.server_pid = server_pid
        self.redis_client = redis_client

    def read(self) -> CpuReading:
        return CpuReading(
            app_s=process_tree_cpu_s(self.server_pid), redis_s=redis_cpu_s(self.redis_client)
        )


def per_request(before: CpuReading, after: CpuReading, requests: int) -> dict[str, float | None]:
    """
    Microseconds of CPU per request between two readings, by side and in all (``sides``).
    """

    def each(start, end):
        if start is None or end is None or requests <= 0 or end < start:
            return None
        return (end - start) / requests * 1e6

    return sides(each(before.app_s, after.app_s), each(before.redis_s, after.redis_s))


def sides(app_us: float | None, redis_us: float | None) -> dict[str, float | None]:
    """
    CPU per request by side, with ``total_us``: None unless the app was measured, and the
    app alone where Redis was not read.
    """
    total = None if app_us is None else app_us + (redis_us or 0.0)
    return {"app_us": app_us, "redis_us": redis_us, "total_us": total}
