"""
The live revocation experiment: a second session and a second token pair, revoked as
"Your devices" revokes, then each credential tried again at once.
"""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import SignIn
from compare.services import EXPERIMENT_PAIR_USER_AGENT, EXPERIMENT_SESSION_USER_AGENT
from tests.support.storefront import me, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]


def run(client):
    response = client.post(reverse("compare_revocation"))
    assert response.status_code == 200
    return response


def probes(response) -> dict:
    return {probe.credential: probe for probe in response.context["experiment"].probes}


def experiment_sign_ins(user):
    return SignIn.objects.filter(
        user=user,
        user_agent__in=[EXPERIMENT_SESSION_USER_AGENT, EXPERIMENT_PAIR_USER_AGENT],
    )


def test_the_experiment_is_post_only(browser):
    assert browser.get(reverse("compare_revocation")).status_code == 405


def test_the_experiment_needs_a_csrf_token(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.post(reverse("compare_revocation")).status_code == 403
    assert not experiment_sign_ins(user).exists()


def test_the_page_s_form_carries_the_csrf_token(browser):
    html = browser.get(reverse("compare")).content.decode()
    form = html[html.index(f'action="{reverse("compare_revocation")}') :]
    assert 'name="csrfmiddlewaretoken"' in form[: form.index("</form>")]


def test_signed_out_the_experiment_sends_you_to_sign_in(client):
    response = client.post(reverse("compare_revocation"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_every_credential_works_before_the_revocation(browser):
    assert all(probe.works_before for probe in probes(run(browser)).values())


def test_the_revoked_session_is_refused_at_once(session_store, browser, user):
    probe = probes(run(browser))["session cookie"]
    assert not probe.works_after
    assert probe.usable_for_seconds == 0
    session_sign_in = experiment_sign_ins(user).get(kind=SignIn.Kind.SESSION)
    assert session_sign_in.end_reason == SignIn.EndReason.REVOKED


def test_the_revoked_session_leaves_no_row_in_the_database_store(database_sessions, browser):
    from django.contrib.sessions.models import Session

    before = set(Session.objects.values_list("session_key", flat=True))
    run(browser)
    assert set(Session.objects.values_list("session_key", flat=True)) == before


def test_the_revoked_refresh_token_is_refused_at_once(browser, user):
    probe = probes(run(browser))["refresh token"]
    assert not probe.works_after
    assert "ended" in probe.answer_after
    token_sign_in = experiment_sign_ins(user).get(kind=SignIn.Kind.TOKEN)
    assert token_sign_in.end_reason == SignIn.EndReason.REVOKED


def test_without_the_denylist_the_access_token_still_works_until_it_expires(browser, settings):
    probe = probes(run(browser))["access token"]
    assert probe.works_after
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    assert lifetime - 5 <= probe.usable_for_seconds <= lifetime


def test_in_stateless_mode_the_access_token_still_works_too(browser, settings):
    settings.JWT_USER_LOOKUP = "stateless"
    assert probes(run(browser))["access token"].works_after


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_the_denylist_the_access_token_is_refused_at_once(user, password, denylist_on):
    # Real commits (no test transaction around the request): the denylist entry is
    # written when the revocation commits, before the probes run, as on a live site.
    browser = Client()
    sign_in(browser, user, password)
    response = run(browser)
    probe = probes(response)["access token"]
    assert not probe.works_after
    assert probe.usable_for_seconds == 0
    assert "This sign-in has ended" in probe.answer_after


def test_with_signed_cookies_the_session_lives_until_its_next_activity_check(
    client, user, password, settings
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    sign_in(client, user, password)
    probe = probes(run(client))["session cookie"]
    assert probe.works_after
    assert 0 < probe.usable_for_seconds <= settings.SESSION_ACTIVITY_THROTTLE_SECONDS


def test_the_visitor_s_own_session_carries_on(browser):
    run(browser)
    assert me(browser).status_code == 200


def test_the_experiment_leaves_none_of_its_sign_ins_live(browser, user):
    run(browser)
    run(browser)
    assert experiment_sign_ins(user).count() == 4
    assert not experiment_sign_ins(user).filter(ended_at__isnull=True).exists()


def test_the_results_table_says_which_credential_still_works_and_for_how_long(browser):
    html = run(browser).content.decode()
    assert html.count('data-testid="refused-after"') == 2
    assert html.count('data-testid="works-after"') == 1
    assert 'data-countdown data-seconds="' in html[html.index('data-credential="access token"') :]
