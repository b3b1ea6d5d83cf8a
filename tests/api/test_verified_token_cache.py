"""
Every check of an access token whose answer can change runs on every request, on both
paths: the stock path verifies each request's token, and the fast path remembers tokens it
has verified (fastpath.jwt.VerifiedTokenCache) but never a token's expiry, its sign-in's
denylist entry or its user's row. A token that worked a moment ago is refused as soon as
any of those says no.
"""

import time
from datetime import timedelta

import jwt
import pytest
from django.urls import reverse
from rest_framework_simplejwt.exceptions import TokenError

from accounts import services
from api.token_checks import access_token_user
from api.tokens import AccessToken
from tests.support.api import bearer, obtain

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]


def me(client, access):
    return client.get(reverse("api:me"), **bearer(access))


def test_a_token_used_before_is_refused_once_it_expires(api, user, password, settings):
    jwt_settings = {
        **settings.SIMPLE_JWT,
        "ACCESS_TOKEN_LIFETIME": timedelta(seconds=3),
        "LEEWAY": 0,
    }
    settings.SIMPLE_JWT = jwt_settings
    access = obtain(api, user.email, password).json()["access"]
    assert me(api, access).status_code == 200
    # `exp` is whole seconds, cut down from the moment of issue: wait for it, not for a
    # fixed lifetime, which could end before the first request on a slow machine.
    expires = jwt.decode(access, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires - time.time()) + 0.2)
    response = me(api, access)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_a_token_used_before_still_meets_deactivation_in_db_mode(api, pair, user, settings):
    settings.JWT_USER_LOOKUP = "db"
    assert me(api, pair["access"]).status_code == 200
    services.user_deactivate(user=user)
    assert me(api, pair["access"]).status_code == 401


def test_a_token_used_before_still_meets_a_password_change_in_db_mode(api, pair, user, settings):
    settings.JWT_USER_LOOKUP = "db"
    assert me(api, pair["access"]).status_code == 200
    user.set_password("a-new-and-long-passphrase")
    user.save(update_fields=["password"])
    assert me(api, pair["access"]).status_code == 401


@pytest.mark.redis
def test_a_token_used_before_still_meets_the_denylist(
    api, pair, denylist, django_capture_on_commit_callbacks
):
    assert me(api, pair["access"]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        api.post(reverse("api:logout"), {"refresh": pair["refresh"]}, format="json")
    response = me(api, pair["access"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


@pytest.mark.redis
def test_a_token_the_denylist_refused_stays_refused(
    api, pair, denylist, django_capture_on_commit_callbacks
):
    assert me(api, pair["access"]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        api.post(reverse("api:logout"), {"refresh": pair["refresh"]}, format="json")
    denylist.clear()
    for _ in range(3):
        assert me(api, pair["access"]).status_code == 401
    # The denylist is asked on every request: a refusal is not remembered either.
    assert denylist == ["get"] * 3


def test_a_token_made_under_another_key_is_refused_though_used_before(api, pair, settings):
    assert me(api, pair["access"]).status_code == 200
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "another-" + "k" * 60}
    assert me(api, pair["access"]).status_code == 401


def test_a_user_deleted_since_the_token_was_issued_is_refused(api, pair, user, settings):
    settings.JWT_USER_LOOKUP = "db"
    assert me(api, pair["access"]).status_code == 200
    token = AccessToken(pair["access"].encode())
    user.delete()
    with pytest.raises(TokenError, match="User does not exist"):
        access_token_user(token)
    assert me(api, pair["access"]).status_code == 401
