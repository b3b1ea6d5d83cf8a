"""
The storefront request layer by layer (bench.layers), run as ``make bench`` runs it: a child
process with the fast path's Redis session settings, on a seeded database of its own. No
assertion is about speed: every layer must be accounted for, and the figures must reach
the printed report and the guide.
"""

import pytest
from django.conf import settings

from bench.layers import HANDLER_ROW, VIEW_ROW, layer_costs
from bench.report import format_layers
from compare.benchmark import _micro
from tests.bench.test_bench_command import _bench_env
from tests.support.processes import manage

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@pytest.fixture
def layers(private_redis, tmp_path):
    env = {**_bench_env(tmp_path), "REDIS_URL": private_redis.url}
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        manage(*command, env=env, check=True)
    return layer_costs(requests=20, rounds=1, env=env)


def test_every_middleware_of_the_fast_path_is_a_row_and_the_rows_add_up(layers):
    assert layers["session_engine"] == "fastpath.session_store"
    middleware = layers["rows"][1:-1]
    # The servers' MIDDLEWARE with AUTH_FAST_PATH=1: the fast session middleware among them.
    assert "InLoopSessionMiddleware" in middleware
    assert len(middleware) == len(settings.MIDDLEWARE)
    assert (layers["rows"][0], layers["rows"][-1]) == (HANDLER_ROW, VIEW_ROW)
    assert list(layers["columns"]) == ["floor", "round trip", "signed-in page"]
    for column in layers["columns"].values():
        assert len(column["rows"]) == len(layers["rows"])
        # Each layer is its own time, without the layers inside it: a layer timed outside
        # the one around it (a middleware missed by the timing) would come out negative.
        assert min(column["rows"]) >= 0


def test_the_layers_reach_the_report_and_the_guide(layers):
    printed = format_layers(layers)
    for row in layers["rows"]:
        assert row in printed
    costs = {cost.what: cost.median_us for cost in _micro({"layers": layers})}
    totals = {case: column["total_us"] for case, column in layers["columns"].items()}
    beyond = "storefront request: the signed-in page, beyond the round trip"
    assert costs[beyond] == pytest.approx(totals["signed-in page"] - totals["round trip"])
