"""
The thread-hop micro-cost (bench.micro.thread_hop_costs): what each ``sync_to_async`` costs
a uvicorn worker, timed in child processes held to one CPU and free to use every CPU, the
figure behind pinning the benchmark's uvicorn workers (bench.server.UvicornServer).
"""

import json
import os
import subprocess

from bench.micro import thread_hop_costs
from compare.benchmark import _micro


def test_the_thread_hop_is_timed_on_one_cpu_and_on_any_and_reaches_the_guide():
    costs = thread_hop_costs(hops=200)
    assert costs["cpus"] == len(os.sched_getaffinity(0))
    for where in ("one CPU", "any CPU"):
        timing = costs[where]
        assert timing["loops"] == 200
        assert 0 < timing["min_us"] <= timing["median_us"]
    rows = {cost.what: cost for cost in _micro({"thread_hop": costs})}
    assert rows["thread hop, process on one CPU"].median_us == costs["one CPU"]["median_us"]
    assert rows["thread hop, process on any CPU"].median_us == costs["any CPU"]["median_us"]


def test_the_one_cpu_child_really_runs_on_one_cpu(monkeypatch):
    # Each child is first asked which CPUs it may use, then timed as usual.
    seen = []
    original = subprocess.run

    def run(command, **kwargs):
        probe = [*command[:2], "import os; print(sorted(os.sched_getaffinity(0)))"]
        seen.append(json.loads(original(probe, **kwargs).stdout))
        return original(command, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    thread_hop_costs(hops=50)
    assert len(seen[0]) == 1
    assert seen[1] == sorted(os.sched_getaffinity(0))
