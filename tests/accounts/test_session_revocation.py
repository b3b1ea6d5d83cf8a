"""Password change, password reset, deactivation and "your devices" end sessions at once."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import SignIn
from tests.support.factories import UserFactory
from tests.support.storefront import (
    SAFARI_ON_IPHONE,
    age_session,
    me,
    session_exists,
    session_key,
    sign_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]

NEW_PASSWORD = "a-brand-new-passphrase-42"


@pytest.fixture
def laptop(user, password, session_store):
    browser = Client()
    sign_in(browser, user, password)
    return browser


@pytest.fixture
def phone(user, password, session_store):
    browser = Client()
    sign_in(browser, user, password, user_agent=SAFARI_ON_IPHONE)
    return browser


def _change_password(browser, old_password):
    return browser.post(
        reverse("accounts:password_change"),
        {
            "old_password": old_password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )


def test_password_change_ends_every_other_session_at_once(laptop, phone, password):
    phone_key = session_key(phone)
    response = _change_password(laptop, password)
    assert response.status_code == 302
    assert not session_exists(phone_key)
    assert me(phone).status_code == 401


def test_password_change_keeps_this_session_on_a_new_key(laptop, phone, user, password):
    old_key = session_key(laptop)
    _change_password(laptop, password)
    new_key = session_key(laptop)
    assert new_key != old_key
    assert not session_exists(old_key)
    assert me(laptop).status_code == 200
    live = SignIn.objects.get(user=user, ended_at__isnull=True)
    assert live.session_key == new_key


def test_password_change_with_a_wrong_old_password_changes_nothing(laptop, phone, password):
    response = _change_password(laptop, "not-my-password")
    assert response.status_code == 200
    assert 'id="id_old_password_error"' in response.content.decode()
    assert me(phone).status_code == 200


def test_the_new_password_works_after_a_change(laptop, user, password):
    _change_password(laptop, password)
    assert sign_in(Client(), user, NEW_PASSWORD).status_code == 302


def _reset_link(client, email):
    client.post(reverse("accounts:password_reset"), {"email": email})
    assert len(mail.outbox) == 1
    return re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)


def test_completing_a_password_reset_ends_every_session(laptop, phone, user):
    visitor = Client()
    link = _reset_link(visitor, user.email)
    form_url = visitor.get(link)["Location"]
    response = visitor.post(
        form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("accounts:password_reset_complete")
    assert me(laptop).status_code == 401
    assert me(phone).status_code == 401
    assert not SignIn.objects.filter(user=user, ended_at__isnull=True).exists()


def test_a_reset_completed_from_a_signed_in_browser_signs_it_out_too(laptop, user):
    link = _reset_link(laptop, user.email)
    form_url = laptop.get(link)["Location"]
    response = laptop.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert me(laptop).status_code == 401


def test_password_reset_for_an_unknown_email_looks_the_same_and_sends_nothing(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "who@example.com"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_deactivating_a_user_ends_their_sessions_on_the_next_request(laptop, phone, user):
    services.user_deactivate(user=user)
    assert me(laptop).status_code == 401
    assert me(phone).status_code == 401


def test_a_deactivation_made_behind_the_services_back_is_caught_at_the_next_activity_check(
    auth_path, laptop, user, settings
):
    # update() sends no signal, so nothing deletes the session: Django's middleware refuses
    # it on the next request; the fast path's snapshot, at its next re-check of the row.
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    if auth_path != "stock":  # the fast path, with or without its copies
        assert me(laptop).status_code == 200
        age_session(laptop, since_activity=settings.SESSION_ACTIVITY_THROTTLE_SECONDS + 1)
    assert me(laptop).status_code == 401


def test_devices_lists_every_live_sign_in_with_browser_and_os(laptop, phone):
    html = laptop.get(reverse("accounts:devices")).content.decode()
    assert "Firefox 128.0 on Linux" in html
    assert "Mobile Safari 17.5 on iOS 17.5" in html
    assert "127.0.0.1" in html
    assert html.count("this device") == 1


def test_devices_marks_this_device(laptop, user):
    current = SignIn.objects.get(user=user, session_key=session_key(laptop))
    html = laptop.get(reverse("accounts:devices")).content.decode()
    row = re.search(rf'<tr class="current" data-signin="{current.pk}">', html)
    assert row is not None


def test_revoking_a_device_signs_it_out_at_once(laptop, phone, user):
    phone_sign_in = SignIn.objects.get(user=user, session_key=session_key(phone))
    response = laptop.post(reverse("accounts:device_revoke", args=[phone_sign_in.pk]))
    assert response["Location"] == reverse("accounts:devices")
    assert me(phone).status_code == 401
    assert me(laptop).status_code == 200
    phone_sign_in.refresh_from_db()
    assert phone_sign_in.end_reason == SignIn.EndReason.REVOKED


def test_revoking_this_device_signs_it_out(laptop, user):
    current = SignIn.objects.get(user=user, session_key=session_key(laptop))
    response = laptop.post(reverse("accounts:device_revoke", args=[current.pk]))
    assert response["Location"] == reverse("accounts:login")
    assert me(laptop).status_code == 401


def test_another_users_sign_in_cannot_be_revoked(laptop, password, session_store):
    stranger = UserFactory(password=password)
    stranger_browser = Client()
    sign_in(stranger_browser, stranger, password)
    theirs = SignIn.objects.get(user=stranger)
    response = laptop.post(reverse("accounts:device_revoke", args=[theirs.pk]))
    assert response.status_code == 404
    assert me(stranger_browser).status_code == 200


def test_sign_out_everywhere_else_keeps_only_this_device(laptop, phone, user, password):
    third = Client()
    sign_in(third, user, password)
    response = laptop.post(reverse("accounts:devices_sign_out_others"))
    assert response.status_code == 302
    assert me(phone).status_code == 401
    assert me(third).status_code == 401
    assert me(laptop).status_code == 200
    assert SignIn.objects.filter(user=user, ended_at__isnull=True).count() == 1


def test_devices_lists_api_token_sign_ins_too(laptop, user):
    from datetime import timedelta

    services.sign_in_start(
        user=user,
        kind=SignIn.Kind.TOKEN,
        lifetime=timedelta(days=1),
        ip_address="198.51.100.4",
        user_agent="python-httpx/0.28",
    )
    html = laptop.get(reverse("accounts:devices")).content.decode()
    assert "API token" in html
    assert "198.51.100.4" in html


def test_devices_drops_sessions_that_vanished_from_the_store(laptop, phone, user):
    from importlib import import_module

    from django.conf import settings

    import_module(settings.SESSION_ENGINE).SessionStore(session_key(phone)).delete()
    html = laptop.get(reverse("accounts:devices")).content.decode()
    assert "iOS" not in html
    assert SignIn.objects.filter(user=user, ended_at__isnull=True).count() == 1


def test_devices_needs_sign_in(client):
    response = client.get(reverse("accounts:devices"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_revoke_is_post_only(laptop, user):
    current = SignIn.objects.get(user=user)
    assert laptop.get(reverse("accounts:device_revoke", args=[current.pk])).status_code == 405
