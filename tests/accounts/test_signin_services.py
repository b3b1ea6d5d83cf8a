from datetime import timedelta

import pytest
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts import selectors, services
from accounts.models import SignIn
from tests.support.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]


def _session_for(user, settings) -> SessionBase:
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")()
    store["_auth_user_id"] = str(user.pk)
    store.create()
    return store


def _session_sign_in(user, settings):
    session = _session_for(user, settings)
    sign_in = services.sign_in_start(
        user=user,
        kind=SignIn.Kind.SESSION,
        lifetime=timedelta(hours=1),
        session_key=session.session_key,
    )
    return session, sign_in


def test_ending_a_session_sign_in_deletes_the_session_from_the_store(user, settings, session_store):
    session, sign_in = _session_sign_in(user, settings)
    services.sign_in_end(sign_in=sign_in, reason=SignIn.EndReason.REVOKED)
    assert not session.exists(session.session_key)
    assert SignIn.objects.get(pk=sign_in.pk).ended_at is not None


def test_live_sign_ins_leave_out_sessions_that_vanished_from_the_store_and_write_nothing(
    user, settings, session_store
):
    kept, kept_sign_in = _session_sign_in(user, settings)
    gone, gone_sign_in = _session_sign_in(user, settings)
    gone.delete()
    with CaptureQueriesContext(connection) as queries:
        assert selectors.user_sign_ins_live(user=user) == [kept_sign_in]
    assert all(query["sql"].startswith("SELECT") for query in queries.captured_queries)
    assert SignIn.objects.get(pk=gone_sign_in.pk).ended_at is None
    assert selectors.user_sign_ins_over(user=user) == [gone_sign_in]


def test_reconciling_ends_the_sessions_that_vanished_from_the_store_as_expired(
    user, settings, session_store
):
    kept, kept_sign_in = _session_sign_in(user, settings)
    gone, gone_sign_in = _session_sign_in(user, settings)
    gone.delete()
    assert services.user_sign_ins_reconcile(user=user) == 1
    assert SignIn.objects.get(pk=gone_sign_in.pk).end_reason == SignIn.EndReason.EXPIRED
    assert SignIn.objects.get(pk=kept_sign_in.pk).ended_at is None
    assert kept.exists(kept.session_key)


def test_reconciling_ends_a_sign_in_past_its_lifetime_and_leaves_live_ones(user, settings):
    _, live_sign_in = _session_sign_in(user, settings)
    _, old_sign_in = _session_sign_in(user, settings)
    SignIn.objects.filter(pk=old_sign_in.pk).update(expires_at=timezone.now())
    assert services.user_sign_ins_reconcile(user=user) == 1
    assert selectors.user_sign_ins_live(user=user) == [live_sign_in]
    assert selectors.user_sign_ins_over(user=user) == []


def test_password_change_ends_every_other_sign_in_but_keeps_the_current_one(
    user, settings, session_store
):
    current, current_sign_in = _session_sign_in(user, settings)
    other, _ = _session_sign_in(user, settings)
    services.user_password_change(
        user=user, new_password="a-new-long-passphrase", keep=current_sign_in
    )
    assert user.check_password("a-new-long-passphrase")
    assert current.exists(current.session_key)
    assert not other.exists(other.session_key)


def test_password_change_refuses_a_weak_password_and_changes_nothing(user, password, settings):
    _, current_sign_in = _session_sign_in(user, settings)
    other, _ = _session_sign_in(user, settings)
    with pytest.raises(ValidationError):
        services.user_password_change(user=user, new_password="123", keep=current_sign_in)
    user.refresh_from_db()
    assert user.check_password(password)
    assert other.exists(other.session_key)


def test_deactivation_ends_every_sign_in(user, settings, session_store):
    session, _ = _session_sign_in(user, settings)
    services.user_deactivate(user=user)
    user.refresh_from_db()
    assert not user.is_active
    assert not session.exists(session.session_key)
    assert selectors.user_sign_ins_live(user=user) == []


def test_ending_sign_ins_in_bulk_counts_only_those_that_were_still_live(user, settings):
    _, live_sign_in = _session_sign_in(user, settings)
    _, ended_sign_in = _session_sign_in(user, settings)
    services.sign_in_end(sign_in=ended_sign_in, reason=SignIn.EndReason.SIGNED_OUT)
    ended = services.sign_ins_end(
        sign_ins=SignIn.objects.filter(user=user), reason=SignIn.EndReason.ADMIN
    )
    assert ended == 1
    assert SignIn.objects.get(pk=live_sign_in.pk).end_reason == SignIn.EndReason.ADMIN
    assert SignIn.objects.get(pk=ended_sign_in.pk).end_reason == SignIn.EndReason.SIGNED_OUT


def test_signing_users_out_everywhere_ends_every_sign_in_of_each(user, settings):
    other = UserFactory()
    _session_sign_in(user, settings)
    _session_sign_in(other, settings)
    _session_sign_in(other, settings)
    ended = services.users_sign_out_everywhere(users=[user, other], reason=SignIn.EndReason.ADMIN)
    assert ended == 3
    assert not SignIn.objects.filter(ended_at__isnull=True).exists()


def test_a_users_sign_in_is_found_by_id_and_another_users_is_not(user, settings):
    _, sign_in = _session_sign_in(user, settings)
    assert selectors.user_sign_in_get(user=user, sign_in_id=sign_in.pk) == sign_in
    assert selectors.user_sign_in_get(user=UserFactory(), sign_in_id=sign_in.pk) is None
    assert selectors.user_sign_in_get(user=user, sign_in_id=None) is None
