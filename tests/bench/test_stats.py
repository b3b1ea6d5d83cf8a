"""Medians, percentiles and ratios: how rounds become the reported numbers."""

import pytest

from bench.stats import Round, median, percentile, ratio, summarize


def _round(rps, floor_rps, p50=1.0, p99=2.0):
    return Round(
        rps=rps, p50_ms=p50, p99_ms=p99, floor_rps=floor_rps, floor_p50_ms=0.5, floor_p99_ms=1.0
    )


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    assert median([4, 1, 3, 2]) == 2.5


def test_median_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="no values"):
        median([])


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile([7.0], 99) == 7.0


def test_ratio_without_a_floor_is_none_rather_than_infinite():
    assert ratio(500, 0) is None
    assert ratio(500, 1000) == 0.5


def test_ratio_is_the_median_of_per_round_ratios_not_the_ratio_of_medians():
    # Round 2 ran on a slower machine: its floor dropped with the mode. Each round is
    # compared with its own floor (0.6, 0.5, 0.45), whereas the medians of the columns
    # (450 / 1000) would mix rounds.
    rounds = [_round(600, 1000), _round(300, 600), _round(450, 1000)]
    assert summarize(rounds)["ratio"] == pytest.approx(0.5)


def test_spread_reports_the_lowest_and_highest_round():
    summary = summarize([_round(400, 1000), _round(600, 1000), _round(500, 1000)])
    assert summary["spread"]["ratio_min"] == pytest.approx(0.4)
    assert summary["spread"]["ratio_max"] == pytest.approx(0.6)
    assert summary["spread"]["rps_min"] == 400
    assert summary["spread"]["rps_max"] == 600


def test_latency_is_the_median_over_rounds():
    summary = summarize(
        [_round(1, 1, p50=1, p99=9), _round(1, 1, p50=3, p99=5), _round(1, 1, 2, 7)]
    )
    assert summary["p50_ms"] == 2
    assert summary["p99_ms"] == 7
