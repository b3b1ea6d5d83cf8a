"""Requests in process through the site's WSGI application, as the scale step makes them."""

import pytest
from django.core.wsgi import get_wsgi_application

from bench.credentials import Unavailable, check_endpoint
from bench.transport import WsgiTransport

# The WSGI handler closes database connections at the end of each request, as under
# gunicorn, so these tests cannot run inside a test transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def transport(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path  # WhiteNoise warns about a missing one
    return WsgiTransport(get_wsgi_application())


def test_a_request_goes_through_every_middleware(transport):
    answer = transport.request("GET", "/healthz")
    assert answer.status == 200
    assert answer.header("X-Content-Type-Options") == "nosniff"  # SecurityMiddleware


def test_a_missing_endpoint_is_reported_as_not_present(transport):
    with pytest.raises(
        Unavailable, match=r"GET /bench-no-such-page/ answered 404 \(.*not present\)"
    ):
        check_endpoint(transport, "/bench-no-such-page/")
