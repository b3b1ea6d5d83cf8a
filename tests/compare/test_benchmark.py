"""Benchmark results on the comparison page: dated, with the machine, or "run make bench"."""

import pytest

from compare.benchmark import MISSING, summarize
from tests.support.compare import compare_page, sample_results, with_variants

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_run_s_date_and_machine(client, results_file):
    results_file(sample_results())
    html = compare_page(client).content.decode()
    assert "2026-11-20 14:05 UTC" in html
    assert "Test CPU 9000, 2 cores, Linux-test" in html


def test_the_page_lists_every_measured_mode_with_its_ratio(client, results_file):
    results_file(sample_results())
    bench = compare_page(client).context["bench"]
    assert [mode.name for mode in bench.modes if mode.available] == [
        "session-db",
        "session-cache",
        "jwt-db-hs256",
        "jwt-stateless-hs256",
        "jwt-denylist-hs256",
    ]
    html = compare_page(client).content.decode()
    assert '<td class="num">0.86</td>' in html


def test_the_table_shows_the_server_cpu_per_request_where_it_was_measured(client, results_file):
    results_file(sample_results())
    html = compare_page(client).content.decode()
    row = html[html.index('<th scope="row">session, Redis store</th>') :].split("</tr>")[0]
    assert '<td class="num">612</td><td class="num">37</td>' in row
    unmeasured = html[html.index('<th scope="row">session, database store</th>') :]
    assert '<td class="num">–</td><td class="num">–</td>' in unmeasured.split("</tr>")[0]


def test_the_advice_quotes_the_measured_numbers(client, results_file):
    results_file(sample_results())
    html = compare_page(client).content.decode()
    assert "0.51× the unauthenticated floor" in html
    assert "stateless checking ran at 0.86× the floor" in html
    assert "(0.60× the floor)" in html


def test_an_unmeasured_mode_says_why(client, results_file):
    results_file(sample_results())
    html = compare_page(client).content.decode()
    assert "not measured: server did not start" in html


def test_a_quick_run_is_flagged_as_not_for_quoting(client, results_file):
    data = sample_results()
    data["header"]["run"]["quick"] = True
    results_file(data)
    assert "quick run" in compare_page(client).content.decode()


def test_without_results_the_page_says_to_run_make_bench(client, results_file):
    html = compare_page(client).content.decode()
    assert 'data-testid="bench-missing"' in html
    assert "make bench" in html


def test_a_results_file_that_is_not_json_counts_as_none(client, results_file, tmp_path):
    (tmp_path / "latest.json").write_text("{ half a file")
    assert 'data-testid="bench-missing"' in compare_page(client).content.decode()


def test_a_summary_of_an_empty_results_file_has_no_gaps_that_crash():
    summary = summarize({})
    assert summary.date is None
    assert summary.commit == MISSING
    assert summary.modes == []
    assert summary.headline["session_cache"] is None


def test_a_run_with_stock_and_fast_rows_lists_both_stock_first(client, results_file):
    results_file(with_variants(sample_results()))
    names = [mode.name for mode in compare_page(client).context["bench"].modes]
    assert names.index("session-cache-stock") + 1 == names.index("session-cache-fast")


def test_the_advice_quotes_the_fast_row_of_a_run_with_both(client, results_file):
    results_file(with_variants(sample_results(), stock_ratio=0.3))
    bench = compare_page(client).context["bench"]
    assert bench.headline["session_cache"].name == "session-cache-fast"
    assert bench.mode("session-cache-fast").vs_stock == pytest.approx(1.7)
    assert bench.mode("session-cache-stock").variant == "stock"
    assert "0.51× the unauthenticated floor" in compare_page(client).content.decode()
