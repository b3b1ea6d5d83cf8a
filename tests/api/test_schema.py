"""
The OpenAPI schema: what it documents, and a schemathesis run against the live schema.

The schemathesis run loads /api/schema/ from the site in-process (WSGI), generates requests
for every operation — with a fresh access token, so that logging out in one example does
not blind the next — and runs every check schemathesis has: no answer is a 5xx or
disagrees with the schema, and schema-valid input is accepted unless the state of the
data refuses it (STATE_REFUSALS, narrowly).
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import reverse
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.token_services import token_sign_in_start
from tests.support.factories import CartLineFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema_document(client):
    return client.get(reverse("api:schema"), HTTP_ACCEPT="application/json").json()


def test_the_schema_documents_the_bearer_scheme(schema_document):
    schemes = schema_document["components"]["securitySchemes"]
    assert schemes["jwtAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schema_document["paths"]["/api/me/"]["get"]["security"] == [{"jwtAuth": []}]


def test_the_schema_documents_every_error_response(schema_document):
    paths = schema_document["paths"]
    assert "401" in paths["/api/cart/"]["get"]["responses"]
    assert "WWW-Authenticate" in paths["/api/cart/"]["get"]["responses"]["401"]["headers"]
    assert "400" in paths["/api/cart/items/"]["post"]["responses"]
    assert "404" in paths["/api/orders/{id}/"]["get"]["responses"]
    token = paths["/api/auth/token/"]["post"]["responses"]
    assert {"200", "400", "429"} <= set(token)
    assert "Retry-After" in token["429"]["headers"]
    for path_item in paths.values():
        for operation in path_item.values():
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}


def test_the_schema_publishes_the_limits_the_api_enforces(schema_document):
    components = schema_document["components"]["schemas"]
    quantity = components["CartItemInputRequest"]["properties"]["quantity"]
    assert (quantity["minimum"], quantity["maximum"]) == (1, 99)
    patch = components["PatchedCartItemUpdateInputRequest"]["properties"]["quantity"]
    assert (patch["minimum"], patch["maximum"]) == (0, 99)
    listing = schema_document["paths"]["/api/products/"]["get"]
    parameters = {p["name"]: p["schema"] for p in listing["parameters"]}
    assert {"type": "string", "maxLength": 100, "pattern": "^[-a-zA-Z0-9_]+$"} in parameters[
        "category"
    ]["oneOf"]
    assert parameters["search"]["maxLength"] == 100
    (key,) = schema_document["paths"]["/api/orders/"]["post"]["parameters"]
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 64)
    # DRF refuses a NUL in any text input.
    assert components["RefreshInputRequest"]["properties"]["refresh"]["pattern"] == "^[^\\u0000]*$"
    assert parameters["search"]["pattern"] == "^[^\\u0000]*$"


def test_the_schema_documents_the_browser_endpoints_their_cookie_and_csrf(schema_document):
    for path in (
        "/api/auth/browser/token/",
        "/api/auth/browser/refresh/",
        "/api/auth/browser/logout/",
    ):
        operation = schema_document["paths"][path]["post"]
        assert operation["tags"] == ["auth-browser"]
        parameters = {(p["in"], p["name"]): p for p in operation["parameters"]}
        assert ("cookie", "browser_refresh") in parameters
        assert parameters["header", "X-CSRFToken"]["required"] is True
        assert "403" in operation["responses"]
    token = schema_document["paths"]["/api/auth/browser/token/"]["post"]["responses"]["200"]
    assert token["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BrowserAccessOutput"
    }
    assert (
        "refresh"
        not in schema_document["components"]["schemas"]["BrowserAccessOutput"]["properties"]
    )


def test_public_endpoints_need_no_token_in_the_schema(schema_document):
    for path in ("/api/products/", "/api/healthz/"):
        assert schema_document["paths"][path]["get"].get("security", [{}]) in ([{}], [])


def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(client, db):
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn." not in html
    assert "unpkg" not in html


# --- schemathesis -------------------------------------------------------------------------


# Loaded when the module is imported (schemathesis' lazy fixture loader does not run under
# pytest 9); building the schema reads no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
# Reproducible runs, no example database in the work tree, and no query parameters the
# schema does not declare (the API ignores those, as most APIs do).
schema.config.generation.update(deterministic=True, database="none", allow_extra_parameters=False)


@pytest.fixture
def keep_test_connection():
    """
    Keep the test's database connection open across in-process WSGI requests, as Django's
    test client does: the request signals would close it (it is inside the test's
    transaction), losing the test data on PostgreSQL.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def shop_data(db):
    """Rows for the generated requests to find: products and another user's cart line."""
    ProductFactory.create_batch(3)
    CartLineFactory()


class _SignInRequest:
    META = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "schemathesis"}


def fresh_access_token() -> str:
    """Sign a new user in: some generated requests end the sign-in or change the password."""
    return token_sign_in_start(user=UserFactory(), request=_SignInRequest()).access


# "Positive data acceptance" expects every schema-valid request to succeed. A few
# operations may rightly refuse one because of the state of the data, which no schema can
# describe: a wrong password, an empty cart, a product that does not exist or is out of
# stock; a ``resource`` the deployment's JWT_AUDIENCES does not name (invalid_target); a
# reset link that is not one; a taken address, or a password the validators refuse (a
# common one, one like the address), or an address Django's EmailValidator refuses though
# JSON Schema's ``format: email`` allows it (``0@0.a``). For those operations only, and
# only for a 400 carrying one of these codes, the check stands aside; any other refusal of
# valid data still fails the run.
PASSWORD_REFUSALS = {
    "password_too_short",
    "password_too_common",
    "password_too_similar",
    "password_entirely_numeric",
}
STATE_REFUSALS = {
    ("POST", "/api/auth/token/"): {"invalid_login", "invalid_target"},
    ("POST", "/api/auth/signup/"): {"email_taken", "invalid", *PASSWORD_REFUSALS},
    ("POST", "/api/auth/password-reset/confirm/"): {"invalid_reset_token"},
    ("POST", "/api/auth/password/"): {"invalid_password"},
    ("POST", "/api/cart/items/"): {"does_not_exist", "insufficient_stock"},
    ("PATCH", "/api/cart/items/{id}/"): {"inactive", "insufficient_stock"},
    ("POST", "/api/orders/"): {"empty_cart", "inactive", "insufficient_stock"},
}


def _is_state_refusal(case, response) -> bool:
    codes = STATE_REFUSALS.get((case.method.upper(), case.operation.path))
    if not codes or response.status_code != 400:
        return False
    return response.json().get("code") in codes


@schema.parametrize()
@settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_the_api_honours_its_schema(case, shop_data, keep_test_connection):
    # Every check schemathesis has, "positive data acceptance" included (see STATE_REFUSALS).
    headers = {"Authorization": f"Bearer {fresh_access_token()}"}
    response = case.call(headers=headers)
    case.validate_response(
        response,
        headers=headers,
        excluded_checks=[positive_data_acceptance] if _is_state_refusal(case, response) else [],
    )
