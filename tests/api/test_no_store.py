"""
No API answer may be kept by a cache (RFC 6749 §5.1): tokens, account data and errors alike.

The endpoints are enumerated from the URL resolver, so an endpoint added to api/urls.py
later is checked without anyone remembering to add it here.
"""

import uuid

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.support.api import bearer, obtain

pytestmark = pytest.mark.django_db

# A value of the right shape for each path converter: the answer may be a 404, which must
# not be cacheable either.
CONVERTER_VALUES = {
    "UUIDConverter": uuid.UUID(int=1),
    "ApiIdConverter": 1,
    "IntConverter": 1,
    "StringConverter": "x",
    "SlugConverter": "x",
    "PathConverter": "x",
}


def _api_patterns() -> list[URLPattern]:
    resolver = next(
        entry
        for entry in get_resolver().url_patterns
        if isinstance(entry, URLResolver) and entry.namespace == "api"
    )
    return [entry for entry in resolver.url_patterns if isinstance(entry, URLPattern)]


def _methods(pattern: URLPattern) -> list[str]:
    view_class = getattr(pattern.callback, "cls", None) or getattr(
        pattern.callback, "view_class", None
    )
    if view_class is None:
        return ["GET"]
    return [
        method.upper()
        for method in view_class.http_method_names
        if method != "options" and hasattr(view_class, method)
    ] + ["OPTIONS"]


def _operations() -> list[tuple[str, str]]:
    return [(pattern.name, method) for pattern in _api_patterns() for method in _methods(pattern)]


def _path(name: str) -> str:
    pattern = next(p for p in _api_patterns() if p.name == name)
    kwargs = {
        key: CONVERTER_VALUES[type(converter).__name__]
        for key, converter in pattern.pattern.converters.items()
    }
    return reverse(f"api:{name}", kwargs=kwargs)


def _send(client, method: str, path: str, **extra):
    return client.generic(method, path, data="{}", content_type="application/json", **extra)


def assert_not_stored(response):
    assert "no-store" in response.get("Cache-Control", ""), (
        response.status_code,
        response.get("Cache-Control"),
    )
    assert response.get("Pragma") == "no-cache"


def test_the_enumeration_finds_every_api_endpoint():
    names = {name for name, _ in _operations()}
    assert {"token_obtain", "token_refresh", "me", "cart_item_detail", "order_list"} <= names
    assert ("order_list", "POST") in _operations()


@pytest.mark.parametrize(("name", "method"), _operations())
def test_every_api_answer_to_a_signed_in_client_is_not_stored(authed, name, method):
    response = _send(authed, method, _path(name))
    assert response.status_code < 500
    assert_not_stored(response)


@pytest.mark.parametrize(("name", "method"), _operations())
def test_every_api_answer_without_a_token_is_not_stored(api, name, method):
    response = _send(api, method, _path(name))
    assert response.status_code < 500
    assert_not_stored(response)


@pytest.mark.parametrize(("name", "method"), _operations())
def test_every_api_answer_to_a_refused_token_is_not_stored(api, name, method):
    response = _send(api, method, _path(name), **bearer("not-a-token"))
    assert response.status_code < 500
    assert_not_stored(response)


def test_signed_in_data_answers_are_not_stored(authed, user):
    for name in ["me", "sign_in_list", "cart", "order_list"]:
        response = authed.get(reverse(f"api:{name}"))
        assert response.status_code == 200
        assert_not_stored(response)


# --- The token endpoints, success and failure -------------------------------------------------


def test_a_token_pair_is_not_stored(api, user, password):
    response = obtain(api, user.email, password)
    assert response.status_code == 200
    assert_not_stored(response)


@pytest.mark.parametrize(
    "body",
    [{"email": "nobody@example.com", "password": "wrong"}, {"email": "x"}, {}],
    ids=["wrong-credentials", "missing-password", "empty"],
)
def test_a_refused_sign_in_is_not_stored(api, user, body):
    response = api.post(reverse("api:token_obtain"), body, format="json")
    assert response.status_code == 400
    assert_not_stored(response)


def test_a_locked_sign_in_is_not_stored(api, user):
    for _ in range(settings.LOGIN_FAILURE_LIMIT + 1):
        response = obtain(api, user.email, "wrong")
    assert response.status_code == 429
    assert_not_stored(response)


@pytest.mark.parametrize(
    ("name", "field", "token", "accepted_status"),
    [
        ("token_refresh", "refresh", "refresh", 200),
        ("token_verify", "token", "access", 200),
        ("logout", "refresh", "refresh", 204),
    ],
)
def test_token_answers_accepted_and_refused_are_not_stored(
    api, pair, name, field, token, accepted_status
):
    url = reverse(f"api:{name}")
    accepted = api.post(url, {field: pair[token]}, format="json")
    assert accepted.status_code == accepted_status
    assert_not_stored(accepted)
    refused = api.post(url, {field: "garbage"}, format="json")
    assert refused.status_code == 401
    assert_not_stored(refused)


def test_a_password_change_answer_is_not_stored(authed, password):
    response = authed.post(
        reverse("api:password_change"),
        {"old_password": password, "new_password": "another-long-passphrase-42"},
        format="json",
    )
    assert response.status_code == 200
    assert_not_stored(response)


def test_an_unknown_api_path_is_not_stored(api):
    assert_not_stored(api.get("/api/no-such-endpoint/"))


def test_the_public_key_set_stays_cacheable(client):
    response = client.get(reverse("jwks"))
    assert "no-store" not in response.get("Cache-Control", "")
