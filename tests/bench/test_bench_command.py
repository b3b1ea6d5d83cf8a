"""
The benchmark end to end, small: real gunicorn, real wrk, on the unauthenticated floors
only, bounded to a few seconds. No assertion is about speed; these check that the run
produces what it promises and that errors cannot pass as throughput.
"""

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bench.loadgen import run_python, run_wrk, wrk_path
from bench.processes import ServerError
from bench.server import CountError, GunicornServer
from tests.support.processes import child_env, manage
from tests.support.services import service_unavailable


@pytest.fixture
def needs_wrk():
    if wrk_path() is None:
        service_unavailable("wrk is not installed (apt-get install -y wrk)")


def _bench_env(tmp_path: Path) -> dict[str, str]:
    # A database of its own and no Redis: the floors need neither, and the run must not
    # touch the developer's or CI's databases.
    return child_env(
        redis=False,
        drop=("SECRET_KEY",),
        DJANGO_SETTINGS_MODULE="config.settings.bench",
        DATABASE_URL=f"sqlite:///{tmp_path / 'bench.sqlite3'}",
    )


@pytest.fixture(scope="module")
def bench_env(tmp_path_factory) -> dict[str, str]:
    """The environment of a bench run on a migrated, seeded database of its own."""
    env = _bench_env(tmp_path_factory.mktemp("bench-db"))
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        manage(*command, env=env, check=True)
    return env


@pytest.fixture(scope="module")
def floors_run(bench_env, tmp_path_factory):
    if wrk_path() is None:
        return None
    out = tmp_path_factory.mktemp("bench") / "results"
    done = manage(
        "bench",
        "--floors-only",
        "--duration=1",
        "--rounds=1",
        "--no-micro",
        "--no-scale",
        "--no-progress",
        f"--output-dir={out}",
        env=bench_env,
    )
    return done, out


@pytest.fixture
def run(needs_wrk, floors_run):
    return floors_run


def test_the_floors_run_finishes_and_prints_the_table(run):
    done, _ = run
    assert done.returncode == 0, done.stderr[-2000:]
    assert "req/s" in done.stdout
    assert "queries/req" in done.stdout
    assert "floor-storefront" in done.stdout


def test_latest_json_has_a_header_and_a_list_of_modes_with_the_promised_fields(run):
    _, out = run
    result = json.loads((out / "latest.json").read_text())
    header = result["header"]
    assert {"date", "machine", "versions", "git", "settings", "run"} <= header.keys()
    assert {"cpu_model", "cores"} <= header["machine"].keys()
    assert header["settings"]["debug"] is False
    assert isinstance(result["modes"], list)
    for mode in result["modes"]:
        assert {"name", "available"} <= mode.keys()
        if mode["available"]:
            assert {"rps", "ratio", "p50_ms", "p99_ms", "queries", "redis_calls"} <= mode.keys()
        else:
            assert mode["reason"]


def test_the_storefront_floor_is_measured_with_ratio_one_and_no_calls(run):
    _, out = run
    modes = {m["name"]: m for m in json.loads((out / "latest.json").read_text())["modes"]}
    floor = modes["floor-storefront"]
    assert floor["available"], floor.get("reason")
    assert floor["rps"] > 0
    assert floor["ratio"] == 1.0
    assert 0 < floor["p50_ms"] <= floor["p99_ms"]
    assert floor["queries"] == 0
    assert floor["redis_calls"] == 0
    assert floor["loadgen"] == "wrk"
    # The workers' CPU per request is read around the run; this run has no Redis.
    assert floor["cpu_us"]["app_us"] > 0
    assert floor["cpu_us"]["redis_us"] is None


def test_the_charts_are_written_beside_the_json(run):
    _, out = run
    for chart in ("ratio.svg", "latency.svg"):
        root = ET.parse(out / chart).getroot()  # noqa: S314 - our own output, not untrusted
        assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_the_command_refuses_to_run_outside_the_bench_settings():
    done = manage(
        "bench",
        "--floors-only",
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    )
    assert done.returncode != 0
    assert "Unknown command: 'bench'" in done.stderr


@pytest.fixture(scope="module")
def server(bench_env, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "gunicorn.log"
    with GunicornServer(env=bench_env, workers=2, log_path=log) as running:
        yield running


def test_the_workers_count_no_call_for_the_floor(server):
    counts = server.count("/healthz", None, requests=4)
    assert counts["requests"] == 4
    assert (counts["queries_max"], counts["redis_calls_max"]) == (0, 0)


def test_the_workers_count_the_queries_of_a_page_every_time(server):
    counts = server.count("/", None, requests=4)
    assert counts["queries_min"] >= 1
    assert counts["queries_min"] == counts["queries_max"]


def test_counting_a_path_that_does_not_answer_200_is_an_error(server):
    with pytest.raises(CountError, match="answered 404"):
        server.count("/bench-no-such-page/", None, requests=1)


def test_redirects_under_load_are_counted_as_failures_not_throughput(needs_wrk, server):
    # APPEND_SLASH answers 301 here; wrk's own "Non-2xx or 3xx" counter would miss it.
    result = run_wrk(
        f"http://{server.host}:{server.port}/products/no-slash",
        duration_s=1,
        connections=2,
        threads=1,
    )
    assert result.requests > 0
    assert result.not_ok == result.requests
    assert result.bad_status == 301


def test_a_server_that_cannot_start_reports_the_settings_error(tmp_path):
    env = {**_bench_env(tmp_path), "SESSION_BACKEND": "no-such-store"}
    server = GunicornServer(env=env, workers=1, log_path=tmp_path / "gunicorn.log")
    with pytest.raises(ServerError, match="SESSION_BACKEND must be one of"):
        server.start()


def test_the_python_fallback_measures_the_floor(server):
    floor = run_python(
        host=server.host, port=server.port, path="/healthz", duration_s=0.5, connections=2
    )
    assert floor.requests > 0
    assert floor.not_ok == 0
    assert 0 < floor.p50_ms <= floor.p99_ms
    assert floor.tool == "python"


def test_the_python_fallback_counts_redirects_as_failures_too(server):
    redirect = run_python(
        host=server.host, port=server.port, path="/products/no-slash", duration_s=0.5, connections=2
    )
    assert redirect.not_ok == redirect.requests
    assert redirect.bad_status == 301
