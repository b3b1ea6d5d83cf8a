"""
Database outage: the site's PostgreSQL connection is pointed at a port where nothing
listens (connection refused, as when the server is down), sessions stay in a Redis of the
test's own. Whatever needs the database answers 503; what does not keep serving.
"""

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from tests.support.processes import free_port

from .test_redis_outage import assert_friendly_503, assert_json_503

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.both_paths,
]


@pytest.fixture
def database(transactional_db):
    """Stop and start the site's database (its connection, as the site sees it)."""

    class Database:
        port = connection.settings_dict["PORT"]

        def stop(self):
            connection.close()
            connection.settings_dict["PORT"] = str(free_port())

        def start(self):
            connection.close()
            connection.settings_dict["PORT"] = self.port

    database = Database()
    yield database
    database.start()


def test_the_stateless_api_keeps_serving_me_while_the_database_is_down(
    api, shopper, database, settings
):
    settings.JWT_USER_LOOKUP = "stateless"
    database.stop()
    assert api.get(reverse("api:me")).json() == {"id": shopper.pk, "email": shopper.email}


def test_the_api_in_db_mode_answers_503_json_while_the_database_is_down(api, database):
    database.stop()
    assert_json_503(api.get(reverse("api:me")))


def test_the_api_catalog_answers_503_json_while_the_database_is_down(api, database):
    database.stop()
    assert_json_503(api.get(reverse("api:product_list")))


def test_the_catalog_answers_503_while_the_database_is_down(client, product, database):
    database.stop()
    assert_friendly_503(client.get(reverse("shop:catalog")))


def test_health_checks_answer_while_the_database_is_down(client, database):
    database.stop()
    assert client.get(reverse("shop:healthz")).status_code == 200
    assert client.get(reverse("api:healthz")).status_code == 200


def test_a_session_in_redis_says_who_is_signed_in_only_on_the_fast_path(
    auth_path, signed_in, shopper, database
):
    database.stop()
    response = signed_in.get(reverse("accounts:me"))
    if auth_path == "fast":
        # The session holds a snapshot of the user: no query is needed to answer this.
        assert response.json()["email"] == shopper.email
    else:
        # Django's AuthenticationMiddleware loads the user row on every request.
        assert_json_503(response)


def test_database_sessions_answer_503_while_the_database_is_down(
    client, shopper, password, redis_server, database, settings
):
    settings.SESSION_ENGINE = settings.SESSION_ENGINES["db"]
    client.post(reverse("accounts:login"), {"username": shopper.email, "password": password})
    database.stop()
    assert_json_503(client.get(reverse("accounts:me")))


def test_refreshing_a_token_answers_503_json_while_the_database_is_down(
    shopper, password, redis_server, database
):
    pair = (
        APIClient()
        .post(
            reverse("api:token_obtain"),
            {"email": shopper.email, "password": password},
            format="json",
        )
        .json()
    )
    database.stop()
    response = APIClient().post(
        reverse("api:token_refresh"), {"refresh": pair["refresh"]}, format="json"
    )
    assert_json_503(response)


def test_pages_that_read_the_database_answer_503_to_a_signed_in_visitor(signed_in, database):
    database.stop()
    assert_friendly_503(signed_in.get(reverse("shop:order_list")))


def test_signing_in_answers_503_while_the_database_is_down(
    client, shopper, password, redis_server, database
):
    database.stop()
    response = client.post(
        reverse("accounts:login"), {"username": shopper.email, "password": password}
    )
    assert_friendly_503(response)


def test_the_site_recovers_when_the_database_comes_back(client, product, database):
    database.stop()
    assert client.get(reverse("shop:catalog")).status_code == 503
    database.start()
    assert client.get(reverse("shop:catalog")).status_code == 200
