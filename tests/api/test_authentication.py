"""
The stock path (``AUTH_FAST_PATH`` off, the default) is simplejwt's: every request verifies
its token, the user is loaded through the ORM, and the fastpath package is never imported,
so deleting it leaves the API working. tests/fastpath/test_jwt.py has the fast path's
counterparts.
"""

import sys

import pytest
from django.urls import reverse

from accounts import services
from api.keys import KeyedTokenBackend
from tests.support.api import bearer

pytestmark = pytest.mark.django_db


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


@pytest.fixture
def without_fastpath(monkeypatch):
    """Make every import of the fastpath package fail, as if it had been deleted."""
    for name in [name for name in sys.modules if name.partition(".")[0] == "fastpath"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "fastpath", None)


def test_the_stock_path_verifies_the_token_on_every_request(api, pair, decodes, settings):
    assert settings.JWT_VERIFIED_TOKEN_CACHE_SIZE > 0  # The fast path's setting is not read.
    for _ in range(3):
        assert me(api, pair["access"]).status_code == 200
    assert len(decodes) == 3


@pytest.mark.parametrize("mode", ["db", "stateless"])
def test_the_stock_path_works_without_the_fastpath_package(
    api, pair, user, settings, without_fastpath, mode
):
    settings.JWT_USER_LOOKUP = mode
    assert me(api, pair["access"]).json() == {"id": user.pk, "email": user.email}
    assert api.get(reverse("api:cart"), **bearer(pair["access"])).status_code == 200
    services.user_deactivate(user=user)
    assert api.get(reverse("api:cart"), **bearer(pair["access"])).status_code == 401


def test_the_fast_path_needs_the_fastpath_package(api, pair, settings, without_fastpath):
    # The fixture above does hide the package: the fast path, which imports it, fails.
    settings.AUTH_FAST_PATH = True
    with pytest.raises(ImportError):
        me(api, pair["access"])


def test_the_stock_path_loads_the_user_with_the_orm_s_get(
    api, pair, settings, django_assert_num_queries
):
    settings.JWT_USER_LOOKUP = "db"
    with django_assert_num_queries(1) as queries:
        assert me(api, pair["access"]).status_code == 200
    # QuerySet.get() asks for at most MAX_GET_RESULTS rows; the fast path's lookup does not.
    assert queries.captured_queries[0]["sql"].endswith("LIMIT 21")
