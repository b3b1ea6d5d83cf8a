"""Refresh-token chains under real concurrency: PostgreSQL row locks, several threads."""

import pytest
from django.test import RequestFactory
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import services
from accounts.models import SignIn
from api import token_services
from api.tokens import RefreshTokenReused, TokenPair
from tests.support.api import claims_of
from tests.support.factories import UserFactory
from tests.support.threads import repeat, run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _signed_in_user(user=None):
    user = user or UserFactory()
    pair = token_services.token_sign_in_start(user=user, request=RequestFactory().post("/"))
    return user, pair


def _usable_refresh_tokens(user) -> int:
    return OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).count()


@repeat(25)
def test_the_same_refresh_token_raced_by_four_clients_gives_each_the_same_new_pair():
    # Two tabs (or a retry racing its lost original) refresh with one token at once: the
    # first rotates it, the others wait on the sign-in's row lock and get the same answer.
    user, pair = _signed_in_user()
    outcomes = run_in_threads([lambda: token_services.token_refresh(raw=pair.refresh)] * 4)
    assert all(isinstance(o, TokenPair) for o in outcomes), outcomes
    assert len({o.refresh for o in outcomes}) == 1
    assert _usable_refresh_tokens(user) == 1
    assert SignIn.objects.get(user=user).ended_at is None
    token_services.token_refresh(raw=outcomes[0].refresh)


@repeat(10)
def test_with_strict_reuse_detection_a_raced_refresh_token_rotates_once_and_is_caught(settings):
    settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS = 0
    user, pair = _signed_in_user()
    _, elsewhere = _signed_in_user(user)
    outcomes = run_in_threads([lambda: token_services.token_refresh(raw=pair.refresh)] * 4)
    assert sum(isinstance(o, TokenPair) for o in outcomes) == 1
    # The first late-comer is caught reusing the token and ends the sign-in; any later one
    # finds the sign-in already ended.
    refused = [o for o in outcomes if not isinstance(o, TokenPair)]
    assert all(isinstance(o, TokenError) for o in refused)
    assert any(isinstance(o, RefreshTokenReused) for o in refused)
    assert SignIn.objects.get(pk=claims_of(pair.refresh)["sid"]).ended_at is not None
    # The user's other sign-in carries on.
    token_services.token_refresh(raw=elsewhere.refresh)


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
