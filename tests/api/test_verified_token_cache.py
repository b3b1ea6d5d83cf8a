"""
Each process verifies an access token's signature and claims once, then remembers it until
it expires (api.token_checks.VerifiedTokenCache); every check whose answer can change (expiry,
the denylist, the user's row) still runs on every request.
"""

import time
import weakref
from datetime import timedelta

import jwt
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError

from accounts import services
from accounts.models import User
from api import keys, token_checks
from api.tokens import AccessToken

from .conftest import bearer, obtain

pytestmark = pytest.mark.django_db


def me(client, access):
    return client.get(reverse("api:me"), **bearer(access))


@pytest.fixture
def decodes(monkeypatch):
    """Record every full verification (signature and claims) of a token."""
    calls = []
    original = keys.KeyedTokenBackend.decode

    def counting_decode(backend, token, verify=True):
        calls.append(token)
        return original(backend, token, verify)

    monkeypatch.setattr(keys.KeyedTokenBackend, "decode", counting_decode)
    return calls


def test_a_token_is_verified_once_then_remembered(api, pair, decodes):
    for _ in range(3):
        assert me(api, pair["access"]).status_code == 200
    assert len(decodes) == 1


def test_with_the_cache_off_every_request_verifies_the_token(api, pair, decodes, settings):
    settings.JWT_VERIFIED_TOKEN_CACHE_SIZE = 0
    for _ in range(3):
        assert me(api, pair["access"]).status_code == 200
    assert len(decodes) == 3


def test_a_remembered_token_is_refused_once_it_expires(api, user, password, settings):
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


def test_a_remembered_token_still_meets_deactivation_in_db_mode(api, pair, user, settings):
    settings.JWT_USER_LOOKUP = "db"
    assert me(api, pair["access"]).status_code == 200
    services.user_deactivate(user=user)
    assert me(api, pair["access"]).status_code == 401


def test_a_remembered_token_still_meets_a_password_change_in_db_mode(api, pair, user, settings):
    settings.JWT_USER_LOOKUP = "db"
    assert me(api, pair["access"]).status_code == 200
    user.set_password("a-new-and-long-passphrase")
    user.save(update_fields=["password"])
    assert me(api, pair["access"]).status_code == 401


@pytest.mark.redis
def test_a_remembered_token_still_meets_the_denylist(
    api, pair, denylist, django_capture_on_commit_callbacks
):
    assert me(api, pair["access"]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        api.post(reverse("api:logout"), {"refresh": pair["refresh"]}, format="json")
    response = me(api, pair["access"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_a_token_made_under_another_key_is_not_served_from_the_cache(api, pair, settings):
    assert me(api, pair["access"]).status_code == 200
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "another-" + "k" * 60}
    assert me(api, pair["access"]).status_code == 401


def test_the_cache_keeps_at_most_its_size_newest_first(api, user, password, settings):
    settings.JWT_VERIFIED_TOKEN_CACHE_SIZE = 2
    cache = token_checks.VerifiedTokenCache()
    raws = [obtain(api, user.email, password).json()["access"].encode() for _ in range(3)]
    for raw in raws:
        cache.add(raw, AccessToken(raw))
    assert cache.get(raws[0]) is None
    assert cache.get(raws[1]) is not None
    assert cache.get(raws[2]) is not None


def test_the_user_lookup_answers_as_the_orm_does(api, pair, user, settings):
    settings.JWT_USER_LOOKUP = "db"
    token = AccessToken(pair["access"].encode())
    looked_up = token_checks.access_token_user(token)
    assert looked_up == user
    assert looked_up.email == user.email
    assert looked_up.date_joined == user.date_joined
    assert timezone.is_aware(looked_up.date_joined)
    assert looked_up.get_deferred_fields() == set()
    # The backend's converters ran: SQLite stores booleans as 0/1.
    assert looked_up.is_active is True
    assert looked_up.is_staff is False
    expected = User._default_manager.get(pk=user.pk)
    assert {k: v for k, v in vars(looked_up).items() if k != "_state"} == {
        k: v for k, v in vars(expected).items() if k != "_state"
    }
    assert (looked_up._state.adding, looked_up._state.db) == (False, "default")


def test_the_user_lookup_is_compiled_once_per_database_connection(
    api, pair, user, settings, monkeypatch
):
    settings.JWT_USER_LOOKUP = "db"
    compiled = []
    original = token_checks._UserLookup.__init__

    def counting_init(lookup, db_connection):
        compiled.append(db_connection)
        original(lookup, db_connection)

    monkeypatch.setattr(token_checks._UserLookup, "__init__", counting_init)
    monkeypatch.setattr(token_checks, "_user_lookups", weakref.WeakKeyDictionary())
    token = AccessToken(pair["access"].encode())
    for _ in range(3):
        assert token_checks.access_token_user(token) == user
    assert compiled == [connection]


def test_a_user_deleted_since_the_token_was_issued_is_refused(api, pair, user, settings):
    settings.JWT_USER_LOOKUP = "db"
    token = AccessToken(pair["access"].encode())
    user.delete()
    with pytest.raises(TokenError, match="User does not exist"):
        token_checks.access_token_user(token)
