"""RFC 8414 authorization-server metadata at /.well-known/oauth-authorization-server."""

import secrets

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def metadata(client):
    response = client.get(reverse("oauth_authorization_server_metadata"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_the_metadata_names_the_issuer_the_tokens_carry_and_the_endpoints(client, settings):
    document = metadata(client)

    assert document["issuer"] == settings.SIMPLE_JWT["ISSUER"]
    assert document["token_endpoint"] == "http://testserver" + reverse("api:token_obtain")
    assert document["revocation_endpoint"] == "http://testserver/api/auth/revoke/"
    assert document["grant_types_supported"] == ["password", "refresh_token"]
    assert document["token_endpoint_auth_methods_supported"] == ["none"]
    assert document["revocation_endpoint_auth_methods_supported"] == ["none"]
    assert document["response_types_supported"] == []


def test_public_clients_need_no_client_authentication_algorithms(client):
    # RFC 8414 §2: the signing algorithms of client authentication go with private_key_jwt
    # and client_secret_jwt only, and no ID tokens are issued (this is not OpenID Connect).
    document = metadata(client)

    assert "token_endpoint_auth_signing_alg_values_supported" not in document
    assert "id_token_signing_alg_values_supported" not in document


def test_under_hs256_the_metadata_has_no_key_set(client):
    document = metadata(client)

    assert "jwks_uri" not in document
    assert document["access_token_signing_alg_values_supported"] == ["HS256"]


def test_under_a_key_pair_the_metadata_points_to_the_key_set(client, key_pair):
    algorithm, _, _ = key_pair
    document = metadata(client)

    assert document["jwks_uri"] == "http://testserver" + reverse("jwks")
    assert document["access_token_signing_alg_values_supported"] == [algorithm]
    assert client.get(document["jwks_uri"]).json()["keys"][0]["alg"] == algorithm


def test_the_algorithms_of_previous_keys_are_listed_after_the_current_one(
    client, key_pair, settings
):
    algorithm, _, _ = key_pair
    settings.JWT_PREVIOUS_SIGNING_KEYS = [secrets.token_urlsafe(48)]

    assert metadata(client)["access_token_signing_alg_values_supported"] == [algorithm, "HS256"]


def test_the_metadata_may_be_cached(client):
    response = client.get(reverse("oauth_authorization_server_metadata"))
    assert "max-age=300" in response["Cache-Control"]


def test_the_metadata_only_answers_get(client):
    response = client.post(reverse("oauth_authorization_server_metadata"))
    assert response.status_code == 405
