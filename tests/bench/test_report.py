"""The printed table and the JSON file: what a reader of the results sees."""

import json

from bench.report import compare_variants, format_table, write_json


def _entry(name, *, ratio=0.5, target=None, notes=(), variant=""):
    return {
        "name": name,
        "kind": "mode",
        "family": name.removesuffix(f"-{variant}"),
        "variant": variant,
        "available": True,
        "rps": 1234.5,
        "floor_rps": 2469.0,
        "ratio": ratio,
        "spread": {"ratio_min": ratio - 0.02, "ratio_max": ratio + 0.03},
        "target": target,
        "meets_target": None if target is None else ratio >= target,
        "p50_ms": 3.21,
        "p99_ms": 9.87,
        "queries": 0.0,
        "redis_calls": 1.0,
        "cpu_us": {"app_us": 612.4, "redis_us": 36.6, "total_us": 649.0},
        "notes": list(notes),
    }


def _row(table: str, name: str) -> str:
    return next(line for line in table.splitlines() if line.startswith(name))


def test_a_row_shows_rate_floor_ratio_spread_latency_and_calls():
    row = _row(format_table([_entry("session-cache")]), "session-cache")
    assert row.split() == [
        "session-cache",
        "1234",
        "2469",
        "0.50",
        "0.48-0.53",
        "-",
        "-",
        "3.21",
        "9.87",
        "0",
        "1",
        "612",
        "37",
    ]


def test_cpu_not_measured_shows_a_dash_not_a_zero():
    entry = {**_entry("session-cache"), "cpu_us": {"app_us": 500.0, "redis_us": None}}
    assert _row(format_table([entry]), "session-cache").split()[-2:] == ["500", "-"]
    del entry["cpu_us"]
    assert _row(format_table([entry]), "session-cache").split()[-2:] == ["-", "-"]


def test_the_target_column_says_whether_the_median_ratio_meets_it():
    table = format_table(
        [_entry("jwt-stateless-hs256", ratio=0.9, target=0.85), _entry("jwt-db-hs256", target=0.6)]
    )
    assert "0.85 met" in _row(table, "jwt-stateless-hs256")
    assert "0.60 MISS" in _row(table, "jwt-db-hs256")


def test_an_unavailable_mode_shows_its_reason_instead_of_numbers():
    entry = {
        "name": "jwt-db-rs256",
        "available": False,
        "reason": "POST /api/auth/token/ answered 404",
    }
    assert "unavailable: POST /api/auth/token/ answered 404" in _row(
        format_table([entry]), "jwt-db-rs256"
    )


def test_notes_are_listed_under_the_table_with_their_mode():
    table = format_table([_entry("session-cache", notes=["the fast path expects 0 queries"])])
    assert "  session-cache: the fast path expects 0 queries" in table.split("notes:")[1]


def test_fractional_call_counts_are_not_rounded_away():
    entry = {**_entry("session-db"), "queries": 1.25}
    assert "1.25" in _row(format_table([entry]), "session-db")


def test_json_is_written_whole_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "results" / "latest.json"
    write_json(path, {"header": {"date": "2026-01-01"}, "modes": [_entry("session-db")]})
    assert json.loads(path.read_text())["modes"][0]["name"] == "session-db"
    assert [p.name for p in path.parent.iterdir()] == ["latest.json"]


def test_a_fast_row_shows_its_ratio_over_its_stock_twin_s():
    entries = compare_variants(
        [
            _entry("session-cache-stock", ratio=0.5, variant="stock"),
            _entry("session-cache-fast", ratio=0.8, target=0.75, variant="fast"),
        ]
    )
    assert (entries[1]["stock"], entries[1]["vs_stock"]) == ("session-cache-stock", 1.6)
    table = format_table(entries)
    stock_row, fast_row = _row(table, "session-cache-stock"), _row(table, "session-cache-fast")
    assert table.index(stock_row) < table.index(fast_row)
    assert fast_row.split()[5:8] == ["0.75", "met", "1.60"]
    assert stock_row.split()[5:7] == ["-", "-"]


def test_a_fast_row_whose_stock_twin_failed_has_no_ratio_to_it():
    stock = {"name": "jwt-db-hs256-stock", "family": "jwt-db-hs256", "variant": "stock"}
    entries = compare_variants(
        [
            {**stock, "available": False, "reason": "server did not start"},
            _entry("jwt-db-hs256-fast", variant="fast"),
        ]
    )
    assert entries[1]["vs_stock"] is None
    assert _row(format_table(entries), "jwt-db-hs256-fast").split()[6] == "-"
