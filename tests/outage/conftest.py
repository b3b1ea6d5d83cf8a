"""Fixtures for the outage tests: the site's cache and sessions in a Redis of the test's own."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.support.caches import private_redis_cache_settings
from tests.support.factories import ProductFactory, UserFactory
from tests.support.storefront import sign_in


@pytest.fixture
def redis_server(private_redis, settings):
    """
    Put the cache, and so the sessions (SESSION_BACKEND=cache) and the sign-in lockout, in
    a redis-server of the test's own that the test may stop and start.
    """
    settings.CACHES = private_redis_cache_settings(private_redis.url)
    settings.SESSION_ENGINE = settings.SESSION_ENGINES["cache"]
    settings.LOGIN_LOCKOUT_STORE = "cache"  # What base.py chooses when REDIS_URL is set.
    return private_redis


@pytest.fixture
def product(db):
    return ProductFactory(stock=10)


@pytest.fixture
def shopper(db, password):
    return UserFactory(password=password)


@pytest.fixture
def signed_in(client, shopper, password, redis_server):
    """A browser signed in as ``shopper`` by session, in the private Redis."""
    response = sign_in(client, shopper, password)
    assert response.status_code == 302, response.content
    # Show the "Signed in as" message now, so later pages only say what they know.
    assert client.get(response["Location"]).status_code == 200
    return client


@pytest.fixture
def token(shopper, password, redis_server):
    """An access token of ``shopper``, obtained while Redis and the database were up."""
    response = APIClient().post(
        reverse("api:token_obtain"),
        {"email": shopper.email, "password": password},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()["access"]


@pytest.fixture
def api(token):
    """An API client that sends ``token``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
