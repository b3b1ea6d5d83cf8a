"""Pieces of the run that would fail quietly: which modes run, what a run cleans up."""

import pytest
import redis as redis_lib

from bench import rtt
from bench.modes import all_modes, select_modes
from bench.run_config import RunConfig
from bench.runner import Runner
from bench.under_load import MODE_VARIABLES, mode_env
from tests.support.caches import redis_cache_settings
from tests.support.services import TEST_REDIS_URL


def test_every_mode_has_its_own_name_and_the_issue_s_targets_are_on_the_fast_rows():
    modes = all_modes()
    # 11 families stock and fast under gunicorn, the client-cache mode (fast only), and 3
    # families again under uvicorn.
    assert len({mode.name for mode in modes}) == len(modes) == 29
    targets = {mode.name: mode.target for mode in modes if mode.target}
    assert targets == {
        "session-cache-fast": 0.75,
        "session-client-cache-fast": 0.9,
        "jwt-db-hs256-fast": 0.6,
        "jwt-db-rs256-fast": 0.6,
        "jwt-stateless-hs256-fast": 0.85,
        "jwt-stateless-rs256-fast": 0.85,
    }


def test_every_mode_comes_stock_then_fast_with_the_fast_path_switch_off_and_on():
    # The client-cache mode is an option of the fast path: it has no stock variant.
    modes = [mode for mode in all_modes() if mode.family != "session-client-cache"]
    for stock, fast in zip(modes[::2], modes[1::2], strict=True):
        assert (stock.name, fast.name) == (f"{stock.family}-stock", f"{stock.family}-fast")
        assert (stock.variant, fast.variant) == ("stock", "fast")
        assert (stock.env["AUTH_FAST_PATH"], fast.env["AUTH_FAST_PATH"]) == ("0", "1")
        # Nothing else differs: the same site, credential and floor.
        assert {**stock.env, "AUTH_FAST_PATH": "1"} == fast.env
        assert (stock.path, stock.credential, stock.edge) == (fast.path, fast.credential, fast.edge)


def test_the_client_cache_mode_is_the_fast_session_in_redis_with_copies_and_nothing_else():
    modes = {mode.name: mode for mode in all_modes()}
    copies, fast = modes["session-client-cache-fast"], modes["session-cache-fast"]
    assert copies.env == {**fast.env, "SESSION_CLIENT_CACHE": "1"}
    assert (copies.path, copies.credential, copies.edge) == (fast.path, fast.credential, fast.edge)
    assert copies.expect_redis_calls == 0


def test_the_stock_rows_make_none_of_the_fast_path_s_claims():
    stock = [mode for mode in all_modes() if mode.variant == "stock"]
    assert stock
    assert {(m.target, m.expect_queries, m.expect_redis_calls) for m in stock} == {(None,) * 3}


def test_the_round_trip_mode_is_the_floor_view_under_session_cache_s_settings():
    # What it costs beyond its floor is the session's round trip alone (the fast path's
    # middleware fetches the session of every request with a cookie; /healthz never reads it).
    modes = {mode.name: mode for mode in all_modes()}
    round_trip, session_cache = modes["session-cache-round-trip-fast"], modes["session-cache-fast"]
    assert round_trip.path == round_trip.floor.floor_path == "/healthz"
    assert round_trip.env == session_cache.env
    assert round_trip.credential == session_cache.credential == "session"
    assert (round_trip.expect_queries, round_trip.expect_redis_calls) == (0, 1)


def test_the_quick_run_leaves_out_diagnostics_unless_they_are_asked_for():
    quick = {mode.name for mode in Runner(RunConfig.quick_preset()).modes()}
    full = {mode.name for mode in Runner(RunConfig.full()).modes()}
    assert full - quick == {"session-cache-round-trip-stock", "session-cache-round-trip-fast"}
    asked = Runner(RunConfig.quick_preset(mode_names=["session-cache-round-trip-fast"])).modes()
    assert [mode.name for mode in asked] == ["session-cache-round-trip-fast"]


def test_a_family_s_name_selects_both_its_variants_in_order():
    chosen = select_modes(all_modes(), ["jwt-db-hs256", "session-db-fast", "session-db"])
    assert [mode.name for mode in chosen] == [
        "jwt-db-hs256-stock",
        "jwt-db-hs256-fast",
        "session-db-fast",
        "session-db-stock",
    ]


def test_the_asymmetric_algorithm_can_be_eddsa_but_not_a_made_up_one():
    assert "jwt-stateless-eddsa-fast" in {m.name for m in all_modes(asymmetric_algorithm="EdDSA")}
    with pytest.raises(ValueError, match="asymmetric algorithm"):
        all_modes(asymmetric_algorithm="none")


def test_selecting_an_unknown_mode_is_an_error_that_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown mode.*session-db"):
        select_modes(all_modes(), ["session-mongo"])


def test_a_mode_s_environment_does_not_inherit_another_mode_s_variables(monkeypatch):
    monkeypatch.setenv("JWT_ACCESS_DENYLIST", "1")
    monkeypatch.setenv("SESSION_BACKEND", "cache")
    monkeypatch.setenv("AUTH_FAST_PATH", "1")
    stateless = next(m for m in all_modes() if m.name == "jwt-stateless-hs256-stock")
    env = mode_env(stateless, keys_dir=None)
    assert "JWT_ACCESS_DENYLIST" not in env
    assert "SESSION_BACKEND" not in env
    assert env["JWT_USER_LOOKUP"] == "stateless"
    assert env["AUTH_FAST_PATH"] == "0"
    assert set(MODE_VARIABLES) >= set(stateless.env)


def test_the_quick_preset_measures_every_mode_briefly_and_scale_at_ten_thousand_only():
    quick = RunConfig.quick_preset()
    assert (quick.duration_s, quick.rounds, quick.scale_sizes) == (1, 1, (10_000,))
    assert quick.mode_names == []


@pytest.mark.redis
def test_clean_up_deletes_only_keys_under_the_bench_prefix(settings):
    settings.REDIS_URL = TEST_REDIS_URL
    settings.CACHES = redis_cache_settings(prefix="bench")
    settings.BENCH_CACHE_KEY_PREFIX = "bench"
    client = redis_lib.Redis.from_url(TEST_REDIS_URL)
    client.set("bench:1:django.contrib.sessions.cacheabc", b"x")
    client.set("shop:1:django.contrib.sessions.cacheabc", b"y")
    try:
        Runner(RunConfig()).clean_up_redis()
        assert client.exists("bench:1:django.contrib.sessions.cacheabc") == 0
        assert client.exists("shop:1:django.contrib.sessions.cacheabc") == 1
    finally:
        client.delete(
            "bench:1:django.contrib.sessions.cacheabc", "shop:1:django.contrib.sessions.cacheabc"
        )


def test_the_asgi_rows_are_the_same_modes_served_by_uvicorn_beside_their_own_floor():
    modes = {mode.name: mode for mode in all_modes()}
    asgi = [mode for mode in modes.values() if mode.server == "uvicorn"]
    assert {mode.name for mode in asgi} == {
        f"{family}-asgi-{variant}"
        for family in ("session-cache", "jwt-db-hs256", "jwt-stateless-hs256")
        for variant in ("stock", "fast")
    }
    for mode in asgi:
        wsgi = modes[mode.name.replace("-asgi-", "-")]
        assert (mode.env, mode.path, mode.credential) == (wsgi.env, wsgi.path, wsgi.credential)
        assert mode.edge == f"{wsgi.edge}-asgi"
        assert mode.floor.floor_path == wsgi.floor.floor_path
        assert (mode.floor.server, wsgi.floor.server) == ("uvicorn", "gunicorn")


def test_the_network_hop_runs_on_a_full_run_or_when_asked_and_not_on_a_partial_one():
    assert {m.name for m in Runner(RunConfig.full()).rtt_modes()} == set(rtt.RTT_MODES)
    assert Runner(RunConfig.full(mode_names=["session-cache"])).rtt_modes() == []
    assert Runner(RunConfig.full(floors_only=True)).rtt_modes() == []
    assert Runner(RunConfig.full(rtt=False)).rtt_modes() == []
    asked = Runner(RunConfig.full(floors_only=True, rtt_mode_names=["jwt-db-hs256-stock"]))
    assert [m.name for m in asked.rtt_modes()] == ["jwt-db-hs256-stock"]


def test_a_network_hop_that_cannot_be_made_is_reported_and_the_run_goes_on(monkeypatch):
    # After 25 minutes of other rows, a namespace or PostgreSQL that fails to start must
    # not lose the run: the rows are reported unavailable, with the reason.
    def failing(self, modes):
        raise RuntimeError("PostgreSQL did not start")

    monkeypatch.setattr(rtt.NetworkHop, "measure", failing)

    class Quiet:
        def advance(self, _):
            pass

        def step(self, _):
            pass

    runner = Runner(RunConfig.quick_preset(progress=False))
    runner.progress = Quiet()
    result = runner.measure_network_hop()
    assert result["available"] is False
    assert "PostgreSQL did not start" in result["reason"]
    assert result["rows"] == []
