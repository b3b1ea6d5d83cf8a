"""
The client-cache mode in the benchmark end to end, small: real gunicorn, real wrk, its own
Redis. No assertion is about speed: the run must measure the mode and its revocation lag,
and every signed-out session must have been refused on every worker.
"""

import json

import pytest

from tests.bench.test_bench_command import _bench_env, needs_wrk  # noqa: F401 - a fixture
from tests.support.processes import manage

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@pytest.fixture
def client_cache_run(needs_wrk, private_redis, tmp_path):  # noqa: F811 - the fixture above
    env = {**_bench_env(tmp_path), "REDIS_URL": private_redis.url}
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        manage(*command, env=env, check=True)
    out = tmp_path / "results"
    done = manage(
        "bench",
        "--quick",
        "--mode=session-client-cache-fast",
        "--no-micro",
        "--no-scale",
        "--no-progress",
        f"--output-dir={out}",
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done, json.loads((out / "latest.json").read_text())


def test_the_client_cache_mode_and_its_revocation_lag_are_measured_and_printed(
    client_cache_run,
):
    done, result = client_cache_run
    modes = {m["name"]: m for m in result["modes"]}
    copies = modes["session-client-cache-fast"]
    assert copies["available"], copies.get("reason")
    # Its claim: an authenticated request whose session the worker has seen asks nothing.
    assert copies["queries"] == 0
    assert copies["redis_calls"] == 0
    assert not copies["notes"], copies["notes"]
    lag = result["revocation_lag"]
    assert lag["trials"] == 20
    assert lag["workers"] == 2
    # Every sign-out was refused on every worker, and the lag has its figures.
    assert lag["never_refused"] == 0
    assert 0 <= lag["p50_ms"] <= lag["p99_ms"] <= lag["max_ms"]
    assert "revocation lag, SESSION_CLIENT_CACHE=1" in done.stdout
    assert "session from the process's copies / the storefront floor" in done.stdout
