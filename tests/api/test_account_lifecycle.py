"""
The account lifecycle over the API: sign-up and password reset (request and confirm), with
the storefront's rules (the same services, limits, normalisation and reset emails).
"""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import SignIn, User
from tests.support.api import bearer, obtain
from tests.support.factories import UserFactory
from tests.support.storefront import me as storefront_me
from tests.support.storefront import sign_in as storefront_sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-42"


def sign_up(api, **body):
    return api.post(reverse("api:signup"), body, format="json")


def reset_request(api, email, **extra):
    return api.post(reverse("api:password_reset"), {"email": email}, format="json", **extra)


def reset_confirm(api, **body):
    return api.post(reverse("api:password_reset_confirm"), body, format="json")


def link_of(message) -> str:
    return re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)


def uid_and_token(link: str) -> dict:
    uid, token = link.rstrip("/").split("/")[-2:]
    return {"uid": uid, "token": token}


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"detail", "code"}
    if code is not None:
        assert body["code"] == code, body


def assert_limited(response, settings):
    assert_error(response, 429, "throttled")
    retry_after = response.json()["retry_after"]
    assert 0 < retry_after <= settings.ADDRESS_LIMIT_SECONDS
    assert int(response["Retry-After"]) == retry_after


# --- Sign-up ------------------------------------------------------------------------------


def test_signing_up_answers_201_with_the_account_and_it_can_sign_in(api):
    response = sign_up(api, email="kim@example.com", password=NEW_PASSWORD)

    assert response.status_code == 201
    user = User.objects.get(email="kim@example.com")
    assert response.json() == {"id": user.pk, "email": "kim@example.com"}
    assert obtain(api, "kim@example.com", NEW_PASSWORD).status_code == 200


def test_signing_up_keeps_the_names_given(api):
    sign_up(api, email="kim@example.com", password=NEW_PASSWORD, first_name=" Kim ", last_name="Ng")

    user = User.objects.get(email="kim@example.com")
    assert (user.first_name, user.last_name) == ("Kim", "Ng")


def test_sign_up_normalises_the_address_as_the_storefront_does(api):
    response = sign_up(api, email="ＫＩＭ@Example.COM", password=NEW_PASSWORD)

    assert response.json()["email"] == "kim@example.com"


def test_sign_up_refuses_a_look_alike_of_a_taken_address(api, user):
    look_alike = user.email.upper().replace("EXAMPLE", "ＥＸＡＭＰＬＥ")

    response = sign_up(api, email=look_alike, password=NEW_PASSWORD)

    assert_error(response, 400, "email_taken")
    assert list(response.json()["errors"]) == ["email"]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"password": NEW_PASSWORD}, "email", "required"),
        ({"email": "not-an-address", "password": NEW_PASSWORD}, "email", "invalid"),
        ({"email": ["kim@example.com"], "password": NEW_PASSWORD}, "email", "invalid"),
        ({"email": "kim@example.com"}, "password", "required"),
        ({"email": "kim@example.com", "password": "short"}, "password", "password_too_short"),
        ({"email": "kim@example.com", "password": "password123"}, "password", None),
        ({"email": "kim@example.com", "password": "83719264018"}, "password", None),
        ({"email": "kim@example.com", "password": "kim@example.com"}, "password", None),
        ({"email": "kim@example.com", "password": "x" * 5000}, "password", "max_length"),
        ({"email": "kim@example.com", "password": 12345678901}, "password", None),
    ],
    ids=[
        "no-email",
        "bad-email",
        "email-list",
        "no-password",
        "short",
        "common",
        "numeric",
        "like-the-email",
        "huge",
        "number",
    ],
)
def test_a_bad_sign_up_is_a_400_naming_the_field_and_creates_nothing(api, body, field, code):
    response = sign_up(api, **body)

    assert_error(response, 400, code)
    assert field in response.json()["errors"]
    assert not User.objects.exists()


def test_a_sign_up_body_that_is_not_an_object_is_a_400(api, db):
    response = api.post(reverse("api:signup"), "[1, 2]", content_type="application/json")

    assert_error(response, 400)


def test_sign_ups_share_the_storefronts_per_address_limit(api, settings):
    settings.SIGNUP_LIMIT_PER_ADDRESS = 2
    Client().post(
        reverse("accounts:signup"),
        {"email": "one@example.com", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    sign_up(api, email="two@example.com", password=NEW_PASSWORD)

    response = sign_up(api, email="three@example.com", password=NEW_PASSWORD)

    assert_limited(response, settings)
    assert not User.objects.filter(email="three@example.com").exists()


# --- Password reset: the request ------------------------------------------------------------


def test_a_reset_request_answers_202_and_emails_a_link_that_works(api, user):
    response = reset_request(api, user.email)

    assert response.status_code == 202
    (message,) = mail.outbox
    assert message.to == [user.email]
    browser = Client()
    form_url = browser.get(link_of(message))["Location"]
    done = browser.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done["Location"] == reverse("accounts:password_reset_complete")
    assert obtain(api, user.email, NEW_PASSWORD).status_code == 200


def test_a_reset_request_for_a_look_alike_address_mails_the_account(api, user):
    reset_request(api, user.email.upper())

    assert [message.to for message in mail.outbox] == [[user.email]]


@pytest.mark.parametrize("email", ["nobody@example.com", "inactive"])
def test_a_reset_request_without_an_account_looks_the_same_and_sends_nothing(api, user, email):
    if email == "inactive":
        email = UserFactory(is_active=False).email
    known = reset_request(api, user.email)
    mail.outbox.clear()

    unknown = reset_request(api, email)

    assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())
    assert mail.outbox == []


def test_a_reset_request_for_text_that_is_no_address_looks_the_same(api, user):
    known = reset_request(api, user.email)

    odd = reset_request(api, "no address at all")

    assert (odd.status_code, odd.json()) == (known.status_code, known.json())


@pytest.mark.parametrize(
    "body", [{}, {"email": None}, {"email": 7}, {"email": ["a@b.c"]}, {"email": "a" * 300}]
)
def test_a_bad_reset_request_is_a_400(api, db, body):
    response = api.post(reverse("api:password_reset"), body, format="json")

    assert_error(response, 400)
    assert "email" in response.json()["errors"]


def test_reset_requests_share_the_storefronts_per_address_limit(api, user, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 2
    Client().post(reverse("accounts:password_reset"), {"email": user.email})
    reset_request(api, "nobody@example.com")

    response = reset_request(api, user.email)

    assert_limited(response, settings)
    assert len(mail.outbox) == 1


# --- Password reset: the confirmation -------------------------------------------------------


@pytest.fixture
def link(api, user):
    reset_request(api, user.email)
    return uid_and_token(link_of(mail.outbox[0]))


def test_confirming_a_reset_sets_the_new_password(api, user, password, link):
    response = reset_confirm(api, **link, new_password=NEW_PASSWORD)

    assert response.status_code == 204
    assert obtain(api, user.email, NEW_PASSWORD).status_code == 200
    assert obtain(api, user.email, password).status_code == 400


@pytest.mark.both_paths
def test_a_reset_ends_every_session_and_token_sign_in(api, user, password):
    browser = Client()
    storefront_sign_in(browser, user, password)
    pair = obtain(api, user.email, password).json()
    # After the sign-ins: a storefront sign-in (last_login) voids earlier links, as in Django.
    reset_request(api, user.email)

    confirmed = reset_confirm(
        api, **uid_and_token(link_of(mail.outbox[0])), new_password=NEW_PASSWORD
    )

    assert confirmed.status_code == 204

    assert storefront_me(browser).status_code == 401
    refreshed = api.post(reverse("api:token_refresh"), {"refresh": pair["refresh"]}, format="json")
    assert refreshed.status_code == 401
    assert api.get(reverse("api:me"), **bearer(pair["access"])).status_code == 401
    assert not SignIn.objects.filter(user=user, ended_at__isnull=True).exists()


def test_a_reset_link_works_once(api, link):
    reset_confirm(api, **link, new_password=NEW_PASSWORD)

    response = reset_confirm(api, **link, new_password="yet-another-passphrase-7")

    assert_error(response, 400, "invalid_reset_token")


def _expired(settings):
    settings.PASSWORD_RESET_TIMEOUT = -1


@pytest.mark.parametrize(
    "spoil",
    [
        lambda link, settings: {**link, "token": link["token"][:-1] + "x"},
        lambda link, settings: {**link, "uid": "not-base64!"},
        lambda link, settings: {**link, "uid": urlsafe_base64_encode(b"999999")},
        lambda link, settings: {**link, "uid": urlsafe_base64_encode(force_bytes(10**30))},
        lambda link, settings: {**link, "uid": urlsafe_base64_encode(b"\xff\xfe")},
        lambda link, settings: {
            **link,
            "uid": urlsafe_base64_encode(force_bytes(UserFactory().pk)),
        },
        lambda link, settings: _expired(settings) or link,
    ],
    ids=[
        "token",
        "uid-garbage",
        "uid-unknown",
        "uid-huge",
        "uid-not-utf8",
        "other-user",
        "expired",
    ],
)
def test_a_bad_or_expired_reset_link_is_a_400_invalid_reset_token(
    api, user, password, link, settings, spoil
):
    response = reset_confirm(api, **spoil(link, settings), new_password=NEW_PASSWORD)

    assert_error(response, 400, "invalid_reset_token")
    assert "token" in response.json()["errors"]
    assert obtain(api, user.email, password).status_code == 200


def test_a_weak_new_password_is_a_400_and_leaves_the_link_usable(api, user, link):
    weak = reset_confirm(api, **link, new_password=user.email)

    assert_error(weak, 400)
    assert list(weak.json()["errors"]) == ["new_password"]
    assert reset_confirm(api, **link, new_password=NEW_PASSWORD).status_code == 204


@pytest.mark.parametrize("missing", ["uid", "token", "new_password"])
def test_a_reset_confirmation_missing_a_field_is_a_400(api, link, missing):
    body = {**link, "new_password": NEW_PASSWORD}
    del body[missing]

    response = reset_confirm(api, **body)

    assert_error(response, 400, "required")


def test_the_reset_token_is_djangos_default_token_generator(api, user):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)

    response = reset_confirm(api, uid=uid, token=token, new_password=NEW_PASSWORD)

    assert response.status_code == 204


# --- The schema -----------------------------------------------------------------------------


def test_the_account_endpoints_are_in_the_schema(client):
    paths = client.get(reverse("api:schema"), HTTP_ACCEPT="application/json").json()["paths"]

    assert {"201", "400", "429"} <= set(paths["/api/auth/signup/"]["post"]["responses"])
    assert {"202", "400", "429"} <= set(paths["/api/auth/password-reset/"]["post"]["responses"])
    confirm = paths["/api/auth/password-reset/confirm/"]["post"]["responses"]
    assert {"204", "400"} <= set(confirm)


# --- Any endpoint -------------------------------------------------------------------------


ENDPOINTS = ["api:signup", "api:password_reset", "api:password_reset_confirm"]


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[]", "application/json", 400),
        ('"text"', "application/json", 400),
        ("email=kim%40example.com", "application/x-www-form-urlencoded", 415),
    ],
    ids=["malformed", "list", "string", "form"],
)
def test_a_body_that_is_not_a_json_object_is_a_4xx_json_error(
    api, db, name, body, content_type, status
):
    response = api.post(reverse(name), body, content_type=content_type)

    assert_error(response, status)


@pytest.mark.parametrize("name", ENDPOINTS)
def test_the_account_endpoints_answer_post_only(api, db, name):
    assert_error(api.get(reverse(name)), 405)
