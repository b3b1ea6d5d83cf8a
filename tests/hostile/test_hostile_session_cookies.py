"""
Hostile session cookies: oversize, garbage, a NUL byte, keys of no session, a session key
with something appended, and sessions signed with someone else's key. Each one is a visitor
who is signed out: public pages answer 200, private ones redirect to the sign-in page, the
JSON twin of /api/me/ answers 401, and nothing answers 500. On database and Redis sessions
(the ``session_store`` fixture), and on signed-cookie sessions where signing is the check.
"""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.serializers import JSONSerializer
from django.core import signing
from django.urls import reverse

from accounts.sessions import SIGN_IN_STATE_KEY
from fastpath.sessions import SNAPSHOT_KEY
from tests.support.storefront import session_key, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]

HOSTILE_COOKIES = {
    "8 KB": "a" * 8192,
    "garbage": "not a session at all",
    "NUL byte": "abcdefgh\x00ijklmnopqrstuvwxyz0123",
    "SQL": "' OR '1'='1' --",
    "path": "../../../../etc/passwd",
    # UTF-8 bytes, as a WSGI server hands them over (decoded as ISO-8859-1).
    "non-ASCII": ("séssïön-ключ-鍵" * 4).encode().decode("iso-8859-1"),
    "well formed, no such session": "0123456789abcdefghijklmnopqrstuv",
    "too short to be a key": "abc",
    "upper case": "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
    "empty": "",
}


def assert_signed_out(client) -> None:
    catalog = client.get(reverse("shop:catalog"))
    assert catalog.status_code == 200
    assert "Not signed in" in catalog.content.decode()
    orders = client.get(reverse("shop:order_list"))
    assert orders.status_code == 302
    assert orders["Location"].startswith(reverse("accounts:login"))
    assert client.get(reverse("accounts:me")).status_code == 401


def set_session_cookie(client, settings, value: str) -> None:
    client.cookies[settings.SESSION_COOKIE_NAME] = value


@pytest.mark.parametrize("cookie", HOSTILE_COOKIES.values(), ids=HOSTILE_COOKIES.keys())
def test_a_hostile_session_cookie_is_a_signed_out_visitor(client, settings, session_store, cookie):
    set_session_cookie(client, settings, cookie)
    assert_signed_out(client)


@pytest.mark.parametrize("cookie", HOSTILE_COOKIES.values(), ids=HOSTILE_COOKIES.keys())
def test_a_hostile_session_cookie_is_deleted_from_the_browser(
    client, settings, session_store, cookie
):
    set_session_cookie(client, settings, cookie)
    response = client.get(reverse("shop:catalog"))
    if cookie:
        assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""


@pytest.mark.parametrize("suffix", ["x", "0" * 8000, "\x00"], ids=["one more", "8 KB more", "NUL"])
def test_a_real_session_key_with_something_appended_is_signed_out(
    client, settings, session_store, user, password, suffix
):
    sign_in(client, user, password)
    genuine = session_key(client)
    set_session_cookie(client, settings, genuine + suffix)
    assert_signed_out(client)
    # The genuine session is untouched by the attempt.
    set_session_cookie(client, settings, genuine)
    assert client.get(reverse("accounts:me")).json()["email"] == user.email


# --- Signed-cookie sessions: the signature is the only check -------------------------------


@pytest.fixture
def signed_cookie_sessions(settings):
    settings.SESSION_ENGINE = settings.SESSION_ENGINES["signed_cookies"]


def forged_session(user, *, key: str) -> str:
    """A signed-cookie session claiming ``user``, signed with ``key``."""
    session = {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash(),
        SNAPSHOT_KEY: {
            "id": user.pk,
            "email": user.email,
            "first_name": "",
            "last_name": "",
            "is_staff": True,
            "is_superuser": True,
            "is_active": True,
            "at": 2**31,
        },
        SIGN_IN_STATE_KEY: {"id": "0" * 32, "at": 2**31, "seen": 2**31, "remember": True},
    }
    return signing.dumps(
        session,
        key=key,
        salt="django.contrib.sessions.backends.signed_cookies",
        serializer=JSONSerializer,
        compress=True,
    )


def test_a_signed_cookie_session_signed_with_another_key_is_signed_out(
    client, settings, signed_cookie_sessions, user
):
    set_session_cookie(client, settings, forged_session(user, key="an-attacker-s-guess" * 3))
    assert_signed_out(client)


def test_the_forger_signs_a_session_as_django_does(client, settings, signed_cookie_sessions, user):
    # The control: the same session signed with the real key is accepted, so the test
    # above fails for the key alone.
    set_session_cookie(client, settings, forged_session(user, key=settings.SECRET_KEY))
    assert client.get(reverse("accounts:me")).json()["email"] == user.email


def test_a_tampered_signed_cookie_session_is_signed_out(
    client, settings, signed_cookie_sessions, user, password
):
    sign_in(client, user, password)
    genuine = client.cookies[settings.SESSION_COOKIE_NAME].value
    payload, rest = genuine.split(":", 1)
    tampered = ("A" if payload[0] != "A" else "B") + payload[1:]
    set_session_cookie(client, settings, f"{tampered}:{rest}")
    assert_signed_out(client)


@pytest.mark.parametrize("cookie", HOSTILE_COOKIES.values(), ids=HOSTILE_COOKIES.keys())
def test_a_hostile_signed_cookie_session_is_a_signed_out_visitor(
    client, settings, signed_cookie_sessions, cookie
):
    set_session_cookie(client, settings, cookie)
    assert_signed_out(client)
