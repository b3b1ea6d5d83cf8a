"""
``manage.py prune``, the one command for cron: expired sessions, ended and expired sign-ins
past their retention, expired refresh tokens (and their blacklist rows) and spent lockout
counters go; everything live stays and keeps working. ``token_stats`` reports every table.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import AttemptCounter, SignIn
from tests.support.api import obtain
from tests.support.storefront import me, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _database_sessions_and_counters(settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    settings.LOGIN_LOCKOUT_STORE = "database"


def refresh(token):
    return APIClient().post(reverse("api:token_refresh"), {"refresh": token}, format="json")


def a_round_of_traffic(user, password):
    """Sign in on both edges, rotate, sign out once, guess wrong once: rows in every table."""
    browser = Client()
    sign_in(browser, user, password)
    browser.post(reverse("accounts:logout"))
    Client().post(reverse("accounts:login"), {"username": user.email, "password": "wrong"})
    pair = obtain(APIClient(), user.email, password).json()
    rotated = refresh(pair["refresh"]).json()
    APIClient().post(reverse("api:logout"), {"refresh": rotated["refresh"]}, format="json")


def let_everything_expire(*, days):
    """Move every row this many days into the past, as if that time had gone by."""
    past = timezone.now() - timedelta(days=days)
    Session.objects.update(expire_date=past)
    SignIn.objects.update(expires_at=past, created_at=past, last_seen_at=past)
    SignIn.objects.filter(ended_at__isnull=False).update(ended_at=past)
    OutstandingToken.objects.update(expires_at=past)
    AttemptCounter.objects.update(resets_at=past.timestamp())


def prune(**options):
    out = StringIO()
    call_command("prune", stdout=out, **options)
    return out.getvalue()


def test_the_tables_stay_bounded_over_many_sign_ins_and_expiries(user, password, settings):
    sizes = []
    for _ in range(5):
        for _ in range(4):
            a_round_of_traffic(user, password)
        let_everything_expire(days=settings.SIGNIN_RETENTION_DAYS + 1)
        prune()
        sizes.append(
            (
                Session.objects.count(),
                SignIn.objects.count(),
                OutstandingToken.objects.count(),
                BlacklistedToken.objects.count(),
                AttemptCounter.objects.count(),
            )
        )
    # Without the prune each round would add sessions, sign-ins, tokens and counters.
    assert sizes == [(0, 0, 0, 0, 0)] * 5


def test_prune_keeps_live_sign_ins_working(user, password, settings):
    browser = Client()
    sign_in(browser, user, password)
    pair = obtain(APIClient(), user.email, password).json()
    a_round_of_traffic(user, password)
    prune()
    assert me(browser).status_code == 200
    assert refresh(pair["refresh"]).status_code == 200


def test_ended_sign_ins_are_kept_for_the_retention_period(user, password, settings):
    a_round_of_traffic(user, password)
    ended = SignIn.objects.filter(ended_at__isnull=False).count()
    assert ended > 0
    prune()
    # Staff can still see in the admin why a sign-in ended, until the retention passes.
    assert SignIn.objects.filter(ended_at__isnull=False).count() == ended
    let_everything_expire(days=settings.SIGNIN_RETENTION_DAYS - 1)
    prune()
    assert SignIn.objects.filter(ended_at__isnull=False).count() == ended


def test_a_refresh_token_of_a_pruned_sign_in_is_refused_cleanly(user, password, settings):
    pair = obtain(APIClient(), user.email, password).json()
    SignIn.objects.update(
        ended_at=timezone.now() - timedelta(days=settings.SIGNIN_RETENTION_DAYS + 1)
    )
    prune()
    response = refresh(pair["refresh"])
    assert response.status_code == 401
    assert "code" in response.json()


def test_prune_says_what_it_removed(user, password, settings):
    a_round_of_traffic(user, password)
    let_everything_expire(days=settings.SIGNIN_RETENTION_DAYS + 1)
    report = prune()
    for table in ("django_session", "accounts_signin", "token_blacklist_outstandingtoken"):
        assert table in report


def test_token_stats_reports_every_table(user, password):
    a_round_of_traffic(user, password)
    out = StringIO()
    call_command("token_stats", stdout=out)
    report = out.getvalue()
    for table in (
        "django_session",
        "accounts_signin",
        "accounts_attemptcounter",
        "token_blacklist_outstandingtoken",
        "token_blacklist_blacklistedtoken",
    ):
        assert table in report
