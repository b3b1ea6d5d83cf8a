"""
The in-process probe: requests through the site's WSGI application and every middleware,
counted per request, as the benchmark reports them beside the throughput.
"""

import pytest
from django.core.wsgi import get_wsgi_application

from bench.credentials import Unavailable, check_endpoint
from bench.probe import measure
from bench.transport import WsgiTransport
from tests.factories import ProductFactory

# The WSGI handler closes database connections at the end of each request, as under
# gunicorn, so these tests cannot run inside a test transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def transport(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path  # WhiteNoise warns about a missing one
    return WsgiTransport(get_wsgi_application())


def test_the_storefront_floor_makes_no_query_and_no_redis_call(transport):
    counts = measure(transport, "/healthz", None, requests=3)
    assert counts["queries"] == 0
    assert counts["redis_calls"] == 0


def test_queries_of_a_page_are_counted_through_the_whole_stack(transport):
    ProductFactory.create_batch(3)
    counts = measure(transport, "/", None, requests=3)
    assert counts["queries"] >= 1
    assert counts["queries_min"] == counts["queries_max"]


def test_a_path_that_does_not_answer_200_is_unavailable_not_counted(transport):
    with pytest.raises(Unavailable, match="answered 404"):
        measure(transport, "/bench-no-such-page/", None, requests=1)


def test_a_missing_endpoint_is_reported_as_not_present(transport):
    with pytest.raises(
        Unavailable, match=r"GET /bench-no-such-page/ answered 404 \(.*not present\)"
    ):
        check_endpoint(transport, "/bench-no-such-page/")
