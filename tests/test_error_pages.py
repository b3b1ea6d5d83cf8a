"""
Error pages: the right status, a page in the site's style, nothing leaked; JSON under /api/.

This module is its own URLconf (``pytest.mark.urls``): the site's URLs and error handlers
from ``config.urls``, plus a few views that fail on purpose.
"""

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from django.views.decorators.http import require_POST

import config.urls
from config.errors import service_unavailable, too_many_requests

LEAKY_DETAIL = "password=hunter2 in /srv/app/secret_module.py"


def _crash(request):
    raise RuntimeError(LEAKY_DETAIL)


def _forbidden(request):
    raise PermissionDenied(LEAKY_DETAIL)


def _suspicious(request):
    raise SuspiciousOperation(LEAKY_DETAIL)


@require_POST
def _form_post(request):
    return HttpResponse("accepted")


def _locked_out(request):
    return too_many_requests(request, 600)


def _outage(request):
    return service_unavailable(request)


urlpatterns = [
    path("crash/", _crash),
    path("forbidden/", _forbidden),
    path("suspicious/", _suspicious),
    path("form/", _form_post),
    path("locked/", _locked_out),
    path("outage/", _outage),
    path("api/crash/", _crash),
    path("api/forbidden/", _forbidden),
    path("api/locked/", _locked_out),
    path("api/suspicious/", _suspicious),
    path("api/outage/", _outage),
    *config.urls.urlpatterns,
]
handler400 = config.urls.handler400
handler403 = config.urls.handler403
handler404 = config.urls.handler404
handler500 = config.urls.handler500

pytestmark = pytest.mark.urls(__name__)


@pytest.fixture(autouse=True)
def _production_like(settings):
    settings.DEBUG = False


@pytest.fixture
def client():
    """A client that gets the 500 page back instead of the exception re-raised."""
    return Client(raise_request_exception=False)


def assert_leaks_nothing(body: str) -> None:
    assert "Traceback" not in body
    assert LEAKY_DETAIL not in body
    assert "hunter2" not in body
    assert settings.SECRET_KEY not in body
    assert settings.JWT_SIGNING_KEY not in body
    assert str(settings.BASE_DIR) not in body
    assert "DEBUG" not in body
    assert "settings" not in body.lower()


def assert_site_page(response, status: int) -> str:
    """Assert the response is the site's own error page for ``status``; return its body."""
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert f'data-status="{status}"' in body
    assert "css/site.css" in body
    return body


ERROR_PAGES = [
    pytest.param("/no-such-page/", 404, id="404"),
    pytest.param("/crash/", 500, id="500"),
    pytest.param("/forbidden/", 403, id="403"),
    pytest.param("/suspicious/", 400, id="400"),
    pytest.param("/locked/", 429, id="429"),
    pytest.param("/outage/", 503, id="503"),
]


@pytest.mark.parametrize(("url", "status"), ERROR_PAGES)
def test_error_answers_the_sites_own_page_and_leaks_nothing(client, url, status):
    body = assert_site_page(client.get(url), status)
    assert_leaks_nothing(body)


def test_missing_page_does_not_echo_the_requested_path(client):
    body = assert_site_page(client.get("/wp-admin/setup-config.php"), 404)
    assert "wp-admin" not in body


def test_500_page_renders_without_the_database(client):
    # No django_db mark: any query while rendering the page would raise, and the handler
    # would fall back to its bare page, which the assertions below would catch.
    body = assert_site_page(client.get("/crash/"), 500)
    assert "Something went wrong" in body


def test_500_page_falls_back_to_a_bare_page_when_its_template_cannot_render(client, settings):
    # Manifest storage with no manifest: {% static %} raises, as when collectstatic never ran.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    response = client.get("/crash/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Server error." in body
    assert_leaks_nothing(body)


def test_host_not_allowed_answers_the_400_page(client):
    body = assert_site_page(client.get("/", headers={"host": "evil.example"}), 400)
    assert "evil.example" not in body


@pytest.mark.django_db
def test_csrf_failure_answers_the_form_expired_page():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/form/", {"quantity": "1"})
    body = assert_site_page(response, 403)
    assert "This form could not be accepted" in body
    assert "please allow cookies" in body
    assert "CSRF cookie not set" not in body
    assert_leaks_nothing(body)


def test_too_many_requests_says_when_to_come_back(client):
    response = client.get("/locked/")
    body = assert_site_page(response, 429)
    assert response["Retry-After"] == "600"
    assert "about 10 minutes" in body


@pytest.mark.parametrize("url", ["/locked/", "/outage/", "/crash/"])
def test_transient_error_pages_are_not_cached(client, url):
    assert "no-store" in client.get(url)["Cache-Control"]


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/no-such-endpoint/", 404, "not_found"),
        ("/api/crash/", 500, "server_error"),
        ("/api/forbidden/", 403, "permission_denied"),
        ("/api/locked/", 429, "throttled"),
        ("/api/outage/", 503, "service_unavailable"),
    ],
)
def test_api_paths_get_json_error_bodies(client, url, status, code):
    response = client.get(url)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert_leaks_nothing(response.content.decode())


@pytest.mark.parametrize(
    ("method", "url", "status", "code"),
    [
        ("get", "/api/no-such-endpoint/", 404, "not_found"),
        ("get", "/api/crash/", 500, "server_error"),
        ("get", "/api/forbidden/", 403, "permission_denied"),
        ("get", "/api/suspicious/", 400, "bad_request"),
        ("get", "/api/auth/token/", 405, "method_not_allowed"),
        # Without the slash Django's CommonMiddleware would raise (DEBUG) or redirect a POST.
        ("post", "/api/auth/token", 404, "not_found"),
    ],
)
def test_api_paths_get_json_errors_with_debug_on_too(client, settings, method, url, status, code):
    settings.DEBUG = True  # what make run serves: Django's own error pages there are HTML
    response = getattr(client, method)(url, {}, content_type="application/json")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert_leaks_nothing(response.content.decode())


def test_a_path_missing_its_slash_is_told_where_the_endpoint_is(client, settings):
    for debug in (False, True):
        settings.DEBUG = debug
        response = client.post("/api/auth/token", {}, content_type="application/json")
        assert response.status_code == 404
        assert "/api/auth/token/" in response.json()["detail"]
        assert "Did you mean" not in client.post("/api/auth/nope").json()["detail"]


def test_api_429_carries_retry_after_in_header_and_body(client):
    response = client.get("/api/locked/")
    assert response["Retry-After"] == "600"
    assert response.json()["retry_after"] == 600


def test_client_asking_only_for_json_gets_json_outside_the_api(client):
    response = client.get("/outage/", headers={"accept": "application/json"})
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


def test_browser_accept_header_gets_the_html_page(client):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert_site_page(client.get("/outage/", headers={"accept": accept}), 503)


def test_storefront_error_pages_vary_on_accept(client):
    assert "Accept" in client.get("/no-such-page/")["Vary"]
