"""
The JWT half of the fast path (fastpath/jwt.py), with ``AUTH_FAST_PATH`` on as
fastpath.conf sets it: an access token is verified once per process and then remembered
until it expires, and the user is loaded by a query compiled once per database connection
that answers as the ORM does. tests/api/test_authentication.py has the stock counterparts;
the guarantees both paths keep are in the ``both_paths`` modules of tests/api.
"""

import time
import weakref

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from api.keys import KeyedTokenBackend
from api.token_checks import access_token_user
from api.tokens import AccessToken
from fastpath import jwt as fast_jwt
from tests.support.api import bearer, obtain

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("auth_path"),
    pytest.mark.parametrize("auth_path", ["fast"], indirect=True),
]


@pytest.fixture
def api():
    return APIClient(enforce_csrf_checks=True)


@pytest.fixture
def pair(api, user, password):
    """A fresh access and refresh token of ``user`` from the token endpoint."""
    return obtain(api, user.email, password).json()


def me(client, access):
    return client.get(reverse("api:me"), **bearer(access))


@pytest.fixture
def decodes(monkeypatch):
    """Record every full verification (signature and claims) of a token."""
    calls = []
    original = KeyedTokenBackend.decode

    def counting_decode(backend, token, verify=True):
        calls.append(token)
        return original(backend, token, verify)

    monkeypatch.setattr(KeyedTokenBackend, "decode", counting_decode)
    return calls


# --- Verification, remembered -------------------------------------------------------------


def test_a_token_is_verified_once_then_remembered(api, pair, decodes):
    for _ in range(3):
        assert me(api, pair["access"]).status_code == 200
    assert len(decodes) == 1


def test_with_the_cache_off_every_request_verifies_the_token(api, pair, decodes, settings):
    settings.JWT_VERIFIED_TOKEN_CACHE_SIZE = 0
    for _ in range(3):
        assert me(api, pair["access"]).status_code == 200
    assert len(decodes) == 3


def test_a_token_that_fails_verification_is_not_remembered(api, pair, decodes):
    tampered = pair["access"][:-4] + ("AAAA" if not pair["access"].endswith("AAAA") else "BBBB")
    for _ in range(2):
        assert me(api, tampered).status_code == 401
    assert len(decodes) == 2
    assert fast_jwt.verified_access_tokens.get(tampered.encode()) is None


def test_a_new_key_empties_the_cache(api, pair, settings):
    assert me(api, pair["access"]).status_code == 200
    assert fast_jwt.verified_access_tokens.get(pair["access"].encode()) is not None
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "another-" + "k" * 60}
    assert fast_jwt.verified_access_tokens.get(pair["access"].encode()) is None


def test_the_cache_keeps_at_most_its_size_newest_first(api, user, password, settings):
    settings.JWT_VERIFIED_TOKEN_CACHE_SIZE = 2
    cache = fast_jwt.VerifiedTokenCache()
    raws = [obtain(api, user.email, password).json()["access"].encode() for _ in range(3)]
    for raw in raws:
        cache.add(raw, AccessToken(raw))
    assert cache.get(raws[0]) is None
    assert cache.get(raws[1]) is not None
    assert cache.get(raws[2]) is not None


def test_the_cache_does_not_serve_a_token_past_its_exp_and_leeway(pair, settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "LEEWAY": 0}
    cache = fast_jwt.VerifiedTokenCache()
    raw = pair["access"].encode()
    token = AccessToken(raw)
    token["exp"] = int(time.time()) - 1
    cache.add(raw, token)
    assert cache.get(raw) is None


# --- The user, by a compiled query --------------------------------------------------------


def test_the_user_lookup_answers_as_the_orm_does(api, pair, user, settings):
    settings.JWT_USER_LOOKUP = "db"
    token = AccessToken(pair["access"].encode())
    looked_up = access_token_user(token)
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


def test_the_user_lookup_runs_one_query_without_the_orm_s_limit(
    api, pair, settings, django_assert_num_queries
):
    settings.JWT_USER_LOOKUP = "db"
    with django_assert_num_queries(1) as queries:
        assert me(api, pair["access"]).status_code == 200
    assert "LIMIT" not in queries.captured_queries[0]["sql"]


def test_the_user_lookup_is_compiled_once_per_database_connection(
    api, pair, user, settings, monkeypatch
):
    settings.JWT_USER_LOOKUP = "db"
    compiled = []
    original = fast_jwt._UserLookup.__init__

    def counting_init(lookup, db_connection, user_model):
        compiled.append(db_connection)
        original(lookup, db_connection, user_model)

    monkeypatch.setattr(fast_jwt._UserLookup, "__init__", counting_init)
    monkeypatch.setattr(fast_jwt, "_user_lookups", weakref.WeakKeyDictionary())
    token = AccessToken(pair["access"].encode())
    for _ in range(3):
        assert access_token_user(token) == user
    assert compiled == [connection]


def test_the_user_lookup_builds_users_through_init_while_something_listens(user):
    assert not post_init.has_listeners(User)
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=User)
    try:
        assert fast_jwt.user_by_pk(user.pk) == user
    finally:
        post_init.disconnect(receiver, sender=User)
    assert seen == [user.pk]
    assert fast_jwt.user_by_pk(user.pk) == user
    assert seen == [user.pk]


def test_the_user_lookup_answers_none_for_an_unknown_user():
    assert fast_jwt.user_by_pk(987654321) is None
