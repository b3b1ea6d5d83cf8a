"""
The network-hop rows end to end, small: a namespace of the test's own with Redis and
PostgreSQL behind the delaying relay, real gunicorn (sync and gthread), real wrk. No
assertion is about speed: the rows must exist for every round trip and server, carry the
round trip they really ran over, count no error, and leave nothing behind.
"""

import json
import shutil
import subprocess

import pytest

from bench import network, rtt
from bench.loadgen import wrk_path
from tests.bench.test_bench_command import _bench_env, needs_wrk  # noqa: F401 - a fixture
from tests.support.processes import manage
from tests.support.services import service_unavailable

pytestmark = [pytest.mark.slow, pytest.mark.own_config]


def _namespaces() -> set[str]:
    ip = shutil.which("ip") or "ip"
    listed = subprocess.run([ip, "netns", "list"], capture_output=True, text=True, check=True)  # noqa: S603
    return {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}


@pytest.fixture(scope="module")
def _rtt_run(tmp_path_factory):
    """One small run for the module's tests; None where it cannot run (see rtt_run)."""
    if wrk_path() is None or network.unavailable():
        return None
    tmp_path = tmp_path_factory.mktemp("rtt")
    env = _bench_env(tmp_path)
    before = _namespaces()
    out = tmp_path / "results"
    done = manage(
        "bench",
        "--quick",
        "--floors-only",
        "--rtt-mode=jwt-stateless-hs256-stock",
        "--no-micro",
        "--no-scale",
        "--no-progress",
        f"--output-dir={out}",
        env=env,
        timeout=400,
    )
    return done, out, before


@pytest.fixture
def rtt_run(needs_wrk, _rtt_run):  # noqa: F811 - the fixture imported above
    reason = network.unavailable()
    if reason:
        service_unavailable(f"the delayed link cannot be made here: {reason}")
    done, out, before = _rtt_run
    assert done.returncode == 0, done.stderr[-3000:]
    return done, json.loads((out / "latest.json").read_text()), before


def test_every_mode_is_measured_at_every_round_trip_on_both_servers(rtt_run):
    done, result, _ = rtt_run
    hop = result["rtt"]
    assert hop["available"], hop.get("reason")
    rows = {row["name"]: row for row in hop["rows"]}
    for mode in ("jwt-stateless-hs256-stock",):
        for config in ("sync", "threads"):
            for added in rtt.RTTS_MS:
                row = rows[f"rtt-{added:g}ms-{mode}-{config}"]
                assert row["available"], row.get("reason")
                assert row["requests"] > 0
                assert row["not_ok"] == 0
    assert "Network hop" in done.stdout


def test_each_row_ran_over_at_least_the_round_trip_it_names(rtt_run):
    # The relay never sends early, so a PING over the link takes at least the added
    # round trip; a delay that was not applied would show as less.
    _, result, _ = rtt_run
    probed = {float(k): v for k, v in result["rtt"]["probed_rtt_ms"].items()}
    assert sorted(probed) == sorted(rtt.RTTS_MS)
    for added, measured in probed.items():
        assert measured >= added
    for row in result["rtt"]["rows"]:
        assert row["probed_rtt_ms"] == probed[row["rtt_ms"]]


def test_the_namespace_and_its_servers_are_gone_after_the_run(rtt_run):
    _, _, before = rtt_run
    assert {n for n in _namespaces() - before if n.startswith("bench-rtt-")} == set()
