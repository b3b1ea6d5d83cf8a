"""Idle and absolute timeouts, and the throttled activity record, on both session stores."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import SignIn
from tests.support.storefront import age_session, me, session_exists, session_key, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]


def test_a_session_idle_past_the_idle_timeout_is_signed_out_on_the_server(
    client, user, password, settings, session_store
):
    sign_in(client, user, password)
    key = session_key(client)
    age_session(client, since_activity=settings.SESSION_IDLE_TIMEOUT_SECONDS + 1)

    assert me(client).status_code == 401
    assert not session_exists(key)
    assert SignIn.objects.get(user=user).end_reason == SignIn.EndReason.EXPIRED


def test_a_session_active_within_the_idle_timeout_stays_signed_in(
    client, user, password, settings, session_store
):
    sign_in(client, user, password)
    age_session(client, since_activity=settings.SESSION_IDLE_TIMEOUT_SECONDS - 5)
    assert me(client).status_code == 200


def test_activity_pushes_the_idle_deadline_back(client, user, password, settings, session_store):
    idle = settings.SESSION_IDLE_TIMEOUT_SECONDS
    sign_in(client, user, password)
    age_session(client, since_activity=idle - 5)
    assert me(client).status_code == 200
    # Without that request, this would be idle + 5 seconds since the last activity.
    age_session(client, since_activity=10)
    assert me(client).status_code == 200


def test_a_session_past_the_absolute_timeout_is_signed_out_even_if_active(
    client, user, password, settings, session_store
):
    sign_in(client, user, password)
    key = session_key(client)
    age_session(client, since_sign_in=settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS + 1)

    assert me(client).status_code == 401
    assert not session_exists(key)


def test_remember_me_raises_the_absolute_timeout(client, user, password, settings, session_store):
    sign_in(client, user, password, remember=True)
    age_session(client, since_sign_in=settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS + 1)
    assert me(client).status_code == 200
    age_session(client, since_sign_in=settings.SESSION_REMEMBER_ME_SECONDS)
    assert me(client).status_code == 401


def test_remember_me_does_not_lift_the_idle_timeout(
    client, user, password, settings, session_store
):
    sign_in(client, user, password, remember=True)
    age_session(client, since_activity=settings.SESSION_IDLE_TIMEOUT_SECONDS + 1)
    assert me(client).status_code == 401


def test_the_idle_timeout_is_read_from_settings(client, user, password, settings, session_store):
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 120
    sign_in(client, user, password)
    age_session(client, since_activity=121)
    assert me(client).status_code == 401


def test_requests_within_the_throttle_record_no_activity(
    client, user, password, settings, session_store
):
    sign_in(client, user, password)
    signed_in_at = SignIn.objects.get(user=user).last_seen_at
    state_before = dict(client.session["_signin"])
    for _ in range(3):
        assert me(client).status_code == 200
    assert SignIn.objects.get(user=user).last_seen_at == signed_in_at
    assert client.session["_signin"] == state_before


def test_a_request_after_the_throttle_records_activity(
    client, user, password, settings, session_store
):
    sign_in(client, user, password)
    sign_in_row = SignIn.objects.get(user=user)
    SignIn.objects.filter(pk=sign_in_row.pk).update(
        last_seen_at=timezone.now() - timedelta(minutes=5)
    )
    age_session(client, since_activity=settings.SESSION_ACTIVITY_THROTTLE_SECONDS + 1)

    assert me(client).status_code == 200

    sign_in_row.refresh_from_db()
    assert timezone.now() - sign_in_row.last_seen_at < timedelta(seconds=5)
    state = client.session["_signin"]
    assert abs(state["seen"] - timezone.now().timestamp()) < 5


def test_devices_drops_a_session_idle_past_the_timeout_and_deletes_it(
    user, password, settings, session_store
):
    from django.test import Client
    from django.urls import reverse

    laptop, idle_phone = Client(), Client()
    sign_in(laptop, user, password)
    sign_in(idle_phone, user, password)
    idle_key = session_key(idle_phone)
    idle_for = settings.SESSION_IDLE_TIMEOUT_SECONDS + settings.SESSION_ACTIVITY_THROTTLE_SECONDS
    SignIn.objects.filter(session_key=idle_key).update(
        last_seen_at=timezone.now() - timedelta(seconds=idle_for + 1)
    )

    laptop.get(reverse("accounts:devices"))

    assert SignIn.objects.filter(user=user, ended_at__isnull=True).count() == 1
    assert not session_exists(idle_key)


def test_signing_in_again_over_a_signed_in_session_ends_the_old_sign_in(
    client, user, password, session_store
):
    sign_in(client, user, password)
    first_key = session_key(client)
    sign_in(client, user, password)
    assert session_key(client) != first_key
    assert not session_exists(first_key)
    assert SignIn.objects.filter(user=user, ended_at__isnull=True).count() == 1
    assert me(client).status_code == 200


def test_a_session_signed_in_by_plain_django_login_is_adopted_into_the_index(
    client, user, session_store
):
    client.force_login(user)
    assert me(client).json()["email"] == user.email
    assert SignIn.objects.get(user=user).session_key == session_key(client)
