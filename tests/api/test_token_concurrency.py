"""Refresh-token chains under real concurrency: PostgreSQL row locks, several threads."""

import pytest
from django.test import RequestFactory
from rest_framework_simplejwt.exceptions import TokenError

from accounts import services
from accounts.models import SignIn
from api import token_services
from api.tokens import RefreshTokenReused, TokenPair
from tests.support.factories import UserFactory
from tests.support.threads import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _signed_in_user():
    user = UserFactory()
    pair = token_services.token_sign_in_start(user=user, request=RequestFactory().post("/"))
    return user, pair


def test_the_same_refresh_token_raced_by_four_clients_rotates_once_and_is_caught():
    user, pair = _signed_in_user()
    outcomes = run_in_threads([lambda: token_services.token_refresh(raw=pair.refresh)] * 4)
    assert sum(isinstance(o, TokenPair) for o in outcomes) == 1
    # The first late-comer is caught reusing the token and ends the sign-in; any later one
    # finds the sign-in already ended.
    refused = [o for o in outcomes if not isinstance(o, TokenPair)]
    assert all(isinstance(o, TokenError) for o in refused)
    assert any(isinstance(o, RefreshTokenReused) for o in refused)
    assert not SignIn.objects.filter(user=user, ended_at__isnull=True).exists()


def test_a_refresh_racing_a_sign_out_everywhere_never_deadlocks():
    for _ in range(5):
        user, pair = _signed_in_user()
        outcomes = run_in_threads(
            [
                lambda pair=pair: token_services.token_refresh(raw=pair.refresh),
                lambda user=user: services.user_sign_out_everywhere(
                    user=user, reason=SignIn.EndReason.ADMIN
                ),
            ]
        )
        unexpected = [o for o in outcomes if isinstance(o, Exception)]
        assert all(isinstance(o, TokenError) for o in unexpected), unexpected
        # Whatever the order, the chain is dead afterwards, a freshly rotated token included.
        assert SignIn.objects.get(user=user).ended_at is not None
        for new in [o for o in outcomes if isinstance(o, TokenPair)]:
            with pytest.raises(TokenError):
                token_services.token_refresh(raw=new.refresh)
