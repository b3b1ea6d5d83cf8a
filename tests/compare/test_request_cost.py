"""The work of authenticating one request, as the comparison page measures it on itself."""

import pytest
from django.test import Client

from tests.support.compare import compare_page
from tests.support.storefront import age_session, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]

# Django's AuthenticationMiddleware loads the user row; the fast path reads its snapshot.
USER_ROW = {"stock": 1, "fast": 0}


def costs(client):
    context = compare_page(client).context
    return context["session_cost"], context["token_cost"]


def test_with_database_sessions_authenticating_is_the_session_query_and_on_stock_the_user_s(
    auth_path, database_sessions, browser
):
    session_cost, _ = costs(browser)
    assert session_cost.authenticated
    assert session_cost.measurement.queries == 1 + USER_ROW[auth_path]
    assert "django_session" in session_cost.measurement.statements[0]
    assert session_cost.measurement.redis_round_trips == 0


@pytest.mark.redis
def test_with_redis_sessions_authenticating_is_one_get_and_on_stock_the_user_query(
    auth_path, user, password, redis_everything
):
    browser = Client()
    sign_in(browser, user, password)
    session_cost, _ = costs(browser)
    assert session_cost.authenticated
    assert session_cost.measurement.queries == USER_ROW[auth_path]
    assert session_cost.measurement.redis_commands == ["GET"]


def test_signed_out_resolving_the_user_costs_nothing(client):
    session_cost = compare_page(client).context["session_cost"]
    assert not session_cost.authenticated
    assert session_cost.outcome == "anonymous"
    assert session_cost.measurement.queries == 0
    assert session_cost.measurement.redis_round_trips == 0


def test_a_request_due_for_the_activity_check_shows_its_extra_queries_and_says_why(
    database_sessions, browser, settings
):
    age_session(browser, since_activity=settings.SESSION_ACTIVITY_THROTTLE_SECONDS + 1)
    session_cost, _ = costs(browser)
    assert session_cost.measurement.queries == 3  # The session, the user row, the SignIn touch.
    assert "activity check" in session_cost.note


def test_checking_the_token_with_a_database_user_lookup_is_one_query(browser, settings):
    settings.JWT_USER_LOOKUP = "db"
    _, token_cost = costs(browser)
    assert token_cost.authenticated
    assert token_cost.measurement.queries == 1
    assert "accounts_user" in token_cost.measurement.statements[0]
    assert token_cost.measurement.redis_round_trips == 0


def test_checking_the_token_statelessly_touches_neither_database_nor_redis(browser, settings):
    settings.JWT_USER_LOOKUP = "stateless"
    _, token_cost = costs(browser)
    assert token_cost.authenticated
    assert token_cost.measurement.queries == 0
    assert token_cost.measurement.redis_round_trips == 0


@pytest.mark.redis
def test_the_denylist_adds_one_redis_get_to_the_token_check(user, password, denylist_on, settings):
    settings.JWT_USER_LOOKUP = "stateless"
    browser = Client()
    sign_in(browser, user, password)
    _, token_cost = costs(browser)
    assert token_cost.authenticated
    assert token_cost.measurement.queries == 0
    assert token_cost.measurement.redis_commands == ["GET"]


def test_both_measurements_are_shown_with_their_times(auth_path, database_sessions, browser):
    html = compare_page(browser).content.decode()
    assert f'data-testid="session-queries">{1 + USER_ROW[auth_path]}<' in html
    assert 'data-testid="token-queries">1<' in html
    assert html.count(" µs</td>") >= 2


def test_measuring_leaves_no_hook_behind_for_other_pages(browser):
    from redis.connection import AbstractConnection

    original = AbstractConnection.send_packed_command
    compare_page(browser)
    assert AbstractConnection.send_packed_command is original
