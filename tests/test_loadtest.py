"""
The load test (``make loadtest``): a short run passes every check, and the checks do catch
the violations they look for.
"""

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from scripts.loadtest import percentile
from scripts.loadtest_shop import (
    Ledger,
    StoredOrder,
    order_id_problems,
    order_total_problems,
    stock_problems,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_a_short_mixed_load_ends_without_5xx_overselling_or_wrong_totals():
    # Eight clients for eight seconds, on the configured database (its own copy) and, with
    # REDIS_URL, sessions in Redis: the CI runs both ways.
    result = subprocess.run(  # noqa: S603 - our own script, fixed arguments.
        [sys.executable, "scripts/loadtest.py", "--duration", "8", "--clients", "8"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "loadtest: PASS" in output
    assert "FAIL" not in output
    for check in [
        "no 5xx answer and no request without an answer",
        "no product oversold",
        "every order total equals the sum of its lines",
        "the orders confirmed to clients are exactly the orders stored",
    ]:
        assert f"PASS  {check}" in output
    # Both edges placed orders, so both were under load.
    orders = next(line for line in output.splitlines() if line.startswith("orders placed:"))
    assert "storefront 0," not in orders
    assert "API 0)" not in orders


def test_a_product_sold_beyond_its_stock_is_flagged():
    problems = stock_problems([Ledger("Tamper", initial=2, restocked=3, final=0, sold=6)])
    assert any("oversold, 6 sold of 5" in problem for problem in problems)


def test_negative_stock_is_flagged():
    problems = stock_problems([Ledger("Tamper", initial=2, restocked=0, final=-1, sold=3)])
    assert any("negative" in problem for problem in problems)


def test_stock_that_moved_without_orders_is_flagged():
    assert stock_problems([Ledger("Tamper", initial=5, restocked=0, final=1, sold=3)]) == [
        "Tamper: 3 sold, but stock went from 5 to 1"
    ]


def test_stock_that_adds_up_passes():
    assert stock_problems([Ledger("Tamper", initial=5, restocked=3, final=2, sold=6)]) == []


def test_an_order_whose_total_is_not_its_lines_is_flagged():
    order = StoredOrder(7, Decimal("10.00"), [(Decimal("3.99"), 2), (Decimal("2.00"), 1)])
    assert order_total_problems([order]) == ["order 7: total 10.00 but lines sum to 9.98"]


def test_an_order_without_lines_is_flagged():
    assert order_total_problems([StoredOrder(8, Decimal("0.00"), [])]) == ["order 8 has no lines"]


def test_orders_confirmed_but_not_stored_and_the_reverse_are_flagged():
    assert order_id_problems(seen={1, 2}, stored={2, 3}) == [
        "orders confirmed to clients but missing: [1]",
        "orders stored but never confirmed: [3]",
    ]


def test_percentiles_are_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([], 0.5) == 0.0
