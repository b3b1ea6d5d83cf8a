"""
Tokens per audience (RFC 8707 resource indicators): a client names the service it wants an
access token for, the token is minted for that audience only, and the shop API accepts only
tokens for itself.
"""

import environ
import jwt
import pytest
from django.urls import reverse

from api.keys import token_backend
from config.settings.base import jwt_audiences
from tests.support.api import bearer, claims_of, obtain

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]

INVOICES = "https://invoices.example.com/"
MEDIA = "urn:example:media"


@pytest.fixture(autouse=True)
def audiences(settings):
    settings.JWT_AUDIENCES = {INVOICES: INVOICES, MEDIA: "media-api"}


def obtain_for(api, user, password, resource):
    return api.post(
        reverse("api:token_obtain"),
        {"email": user.email, "password": password, "resource": resource},
        format="json",
    )


def refresh(api, token, **extra):
    return api.post(reverse("api:token_refresh"), {"refresh": token, **extra}, format="json")


def me(api, access):
    return api.get(reverse("api:me"), **bearer(access))


def test_a_token_asked_for_without_a_resource_is_for_the_shop_api_only(api, user, password):
    access = obtain(api, user.email, password).json()["access"]

    assert claims_of(access)["aud"] == "sessions-vs-jwt-shop-api"
    assert me(api, access).status_code == 200


@pytest.mark.parametrize(("resource", "audience"), [(INVOICES, INVOICES), (MEDIA, "media-api")])
def test_a_token_asked_for_a_resource_carries_that_audience_only(
    api, user, password, resource, audience
):
    response = obtain_for(api, user, password, resource)

    assert response.status_code == 200, response.content
    assert claims_of(response.json()["access"])["aud"] == audience


def test_the_shop_api_refuses_a_token_for_another_audience(api, user, password):
    access = obtain_for(api, user, password, INVOICES).json()["access"]

    # Twice: the fast path must not remember a token it refused.
    answers = [me(api, access) for _ in range(2)]

    assert [answer.status_code for answer in answers] == [401, 401]
    assert answers[0].json()["code"] == "token_not_valid"


def test_the_token_verify_endpoint_refuses_a_token_for_another_audience(api, user, password):
    access = obtain_for(api, user, password, INVOICES).json()["access"]

    response = api.post(reverse("api:token_verify"), {"token": access}, format="json")

    assert response.status_code == 401


def test_a_token_naming_the_shop_among_other_audiences_is_refused(api, user, pair):
    claims = {**claims_of(pair["access"]), "aud": ["sessions-vs-jwt-shop-api", INVOICES]}
    backend = token_backend()
    forged = jwt.encode(claims, backend.prepared_signing_key, algorithm=backend.algorithm)

    assert me(api, forged).status_code == 401


@pytest.mark.parametrize(
    "resource",
    ["https://evil.example/", "https://invoices.example.com", "sessions-vs-jwt-shop-api", ""],
)
def test_an_unknown_resource_is_a_400_invalid_target(api, user, password, resource):
    response = obtain_for(api, user, password, resource)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_target"
    assert response.json()["detail"]


def test_an_unknown_resource_does_not_count_as_a_sign_in_attempt(api, user, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 1
    for _ in range(3):
        obtain_for(api, user, "wrong", "https://evil.example/")

    assert obtain(api, user.email, password).status_code == 200


@pytest.mark.parametrize("resource", [["https://invoices.example.com/"], 7, None, "x" * 3000])
def test_a_resource_that_is_not_one_short_string_is_a_400(api, user, password, resource):
    response = obtain_for(api, user, password, resource)

    assert response.status_code == 400
    assert set(response.json()) >= {"detail", "code"}


def test_a_refreshed_access_token_keeps_the_audience_of_its_sign_in(api, user, password):
    first = obtain_for(api, user, password, INVOICES).json()

    second = refresh(api, first["refresh"]).json()
    third = refresh(api, second["refresh"]).json()

    assert claims_of(third["access"])["aud"] == INVOICES
    assert me(api, third["access"]).status_code == 401


def test_a_refresh_retry_within_the_interval_keeps_the_audience_of_its_sign_in(api, user, password):
    tokens = obtain_for(api, user, password, MEDIA).json()
    first = refresh(api, tokens["refresh"])
    retry = refresh(api, tokens["refresh"])  # a lost answer, sent again: same chain
    assert retry.status_code == 200
    assert retry.json()["refresh"] == first.json()["refresh"]
    assert claims_of(retry.json()["access"])["aud"] == "media-api"
    assert me(api, retry.json()["access"]).status_code == 401


def test_a_refresh_may_name_the_resource_of_its_sign_in(api, user, password):
    first = obtain_for(api, user, password, INVOICES).json()

    response = refresh(api, first["refresh"], resource=INVOICES)

    assert response.status_code == 200
    assert claims_of(response.json()["access"])["aud"] == INVOICES


@pytest.mark.parametrize("resource", [MEDIA, "https://evil.example/"])
def test_a_refresh_for_another_resource_is_a_400_invalid_target(api, user, password, resource):
    first = obtain_for(api, user, password, INVOICES).json()

    response = refresh(api, first["refresh"], resource=resource)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_target"
    # Nothing was used up: the refresh token still works.
    assert refresh(api, first["refresh"]).status_code == 200


def test_a_sign_in_for_the_shop_cannot_refresh_into_another_audience(api, pair):
    response = refresh(api, pair["refresh"], resource=INVOICES)

    assert response.json()["code"] == "invalid_target"


def test_a_sign_in_whose_resource_was_removed_from_the_settings_cannot_refresh(
    api, user, password, settings
):
    first = obtain_for(api, user, password, MEDIA).json()
    settings.JWT_AUDIENCES = {INVOICES: INVOICES}

    response = refresh(api, first["refresh"])

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_target"


# --- The setting ------------------------------------------------------------------------


def test_the_setting_maps_each_resource_to_its_audience():
    parsed = jwt_audiences(f"{INVOICES}, {MEDIA}=media-api")

    assert parsed == {INVOICES: INVOICES, MEDIA: "media-api"}


def test_the_setting_is_empty_by_default():
    assert jwt_audiences("") == {}


@pytest.mark.parametrize(
    "value", ["invoices", "https://x.example/#top", "https://x.example/=", "=aud"]
)
def test_the_setting_refuses_what_is_not_an_absolute_uri_with_an_audience(value):
    with pytest.raises(environ.ImproperlyConfigured, match="JWT_AUDIENCES"):
        jwt_audiences(value)
