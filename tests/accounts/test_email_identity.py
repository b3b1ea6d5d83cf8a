"""
One address, one account: an address is normalised as Django's own forms do (NFKC) and
lower-cased on every path, so a look-alike (full-width letters, capitals) is the same
account, never a second one beside it.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services
from tests.support.api import obtain
from tests.support.factories import UserFactory
from tests.support.storefront import me

pytestmark = pytest.mark.django_db

User = get_user_model()

ALICE = "alice@example.com"
# Full-width letters (U+FF41...) that NFKC folds to ASCII, and capitals.
LOOK_ALIKES = ["alice@ｅｘａｍｐｌｅ.com", "ＡＬＩＣＥ@ＥＸＡＭＰＬＥ.ＣＯＭ", "ALICE@Example.com"]
# Valid as typed, but NFKC turns the small commercial at (U+FE6B) into a second "@".
BREAKS_WHEN_NORMALISED = "bob@example\ufe6bevil.com"
# Valid as typed, but NFKC expands each U+FDFA to 18 letters: far over 254 characters.
TOO_LONG_WHEN_NORMALISED = "bob@" + "\ufdfa" * 15 + ".com"


@pytest.fixture
def api():
    return APIClient(enforce_csrf_checks=True)


@pytest.fixture
def alice(password):
    return UserFactory(email=ALICE, password=password)


def _sign_up(client, email):
    passphrase = "plenty-long-passphrase"
    return client.post(
        reverse("accounts:signup"),
        {"email": email, "password": passphrase, "password_confirm": passphrase},
    )


# --- The model and its manager ------------------------------------------------------------


@pytest.mark.parametrize("email", LOOK_ALIKES)
def test_the_manager_stores_a_look_alike_as_the_plain_address(email):
    assert User.objects.create_user(email=email, password="x").email == ALICE


@pytest.mark.parametrize("email", LOOK_ALIKES)
def test_the_natural_key_of_a_look_alike_is_the_same_account(alice, email):
    assert User.objects.get_by_natural_key(email) == alice


def test_full_clean_normalises_the_address():
    user = User(email="BOB@ｅｘａｍｐｌｅ.com")
    user.set_unusable_password()
    user.full_clean()
    assert user.email == "bob@example.com"


@pytest.mark.parametrize("email", [BREAKS_WHEN_NORMALISED, TOO_LONG_WHEN_NORMALISED])
def test_full_clean_refuses_an_address_that_is_invalid_once_normalised(email):
    user = User(email=email)
    user.set_unusable_password()
    with pytest.raises(ValidationError) as error:
        user.full_clean()
    assert "email" in error.value.error_dict


def test_staff_cannot_add_a_look_alike_of_an_existing_address_in_the_admin(client, alice, password):
    staff = UserFactory(is_staff=True, is_superuser=True, password=password)
    client.force_login(staff)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "alice@ｅｘａｍｐｌｅ.com",
            "usable_password": "true",
            "password1": "plenty-long-passphrase",
            "password2": "plenty-long-passphrase",
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email__startswith="alice@").count() == 1


# --- Sign-up ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", LOOK_ALIKES)
def test_signing_up_with_a_look_alike_of_an_existing_address_is_refused(client, alice, email):
    response = _sign_up(client, email)
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1


def test_signing_up_with_a_look_alike_creates_the_plain_address(client):
    assert _sign_up(client, "ｂｏｂ@ｅｘａｍｐｌｅ.com").status_code == 302
    assert list(User.objects.values_list("email", flat=True)) == ["bob@example.com"]
    assert me(client).json()["email"] == "bob@example.com"


@pytest.mark.parametrize("email", [BREAKS_WHEN_NORMALISED, TOO_LONG_WHEN_NORMALISED])
def test_signing_up_with_an_address_invalid_once_normalised_is_a_form_error(client, email):
    response = _sign_up(client, email)
    assert response.status_code == 200
    assert 'id="id_email_error"' in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize("email", LOOK_ALIKES)
def test_the_sign_up_service_refuses_a_look_alike_of_an_existing_address(alice, email):
    with pytest.raises(ValidationError) as error:
        services.user_sign_up(email=email, password="plenty-long-passphrase")
    assert "email" in error.value.error_dict
    assert User.objects.count() == 1


@pytest.mark.parametrize("email", [BREAKS_WHEN_NORMALISED, TOO_LONG_WHEN_NORMALISED])
def test_the_sign_up_service_refuses_an_address_invalid_once_normalised(email):
    with pytest.raises(ValidationError) as error:
        services.user_sign_up(email=email, password="plenty-long-passphrase")
    assert "email" in error.value.error_dict
    assert not User.objects.exists()


# --- Sign-in: storefront, admin, API --------------------------------------------------------


@pytest.mark.parametrize("email", LOOK_ALIKES)
def test_a_look_alike_signs_in_to_the_storefront_as_the_same_account(
    client, alice, password, email
):
    response = client.post(reverse("accounts:login"), {"username": email, "password": password})
    assert response.status_code == 302
    assert me(client).json()["id"] == alice.pk


@pytest.mark.parametrize("email", [BREAKS_WHEN_NORMALISED, TOO_LONG_WHEN_NORMALISED])
def test_signing_in_with_an_address_invalid_once_normalised_is_a_form_error(client, email):
    response = client.post(reverse("accounts:login"), {"username": email, "password": "x"})
    assert response.status_code == 200
    assert me(client).status_code == 401


@pytest.mark.parametrize("email", LOOK_ALIKES)
def test_a_look_alike_signs_in_to_the_admin_as_the_same_account(client, password, email):
    staff = UserFactory(email=ALICE, is_staff=True, password=password)
    response = client.post(reverse("admin:login"), {"username": email, "password": password})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert int(client.session["_auth_user_id"]) == staff.pk


@pytest.mark.parametrize("email", LOOK_ALIKES)
def test_a_look_alike_obtains_tokens_for_the_same_account(api, alice, password, email):
    response = obtain(api, email, password)
    assert response.status_code == 200
    me_response = api.get(
        reverse("api:me"), HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}"
    )
    assert me_response.json() == {"id": alice.pk, "email": ALICE}


@pytest.mark.parametrize("email", [BREAKS_WHEN_NORMALISED, TOO_LONG_WHEN_NORMALISED])
def test_an_address_invalid_once_normalised_gets_a_400_from_the_token_endpoint(api, email):
    response = obtain(api, email, "x")
    assert response.status_code == 400
    assert response.json()["code"]


def test_failures_under_look_alikes_count_against_the_one_account(api, alice, password, settings):
    # Each attempt from a new address, so that only the account's counter can lock.
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        email = LOOK_ALIKES[n % len(LOOK_ALIKES)]
        assert obtain(api, email, "wrong", REMOTE_ADDR=f"198.51.100.{n + 1}").status_code == 400
    assert obtain(api, ALICE, password, REMOTE_ADDR="203.0.113.9").status_code == 429


# --- Password reset -------------------------------------------------------------------------


@pytest.mark.parametrize("email", LOOK_ALIKES)
def test_a_reset_asked_for_a_look_alike_mails_the_stored_address_once(client, alice, email):
    response = client.post(reverse("accounts:password_reset"), {"email": email})
    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [[ALICE]]


@pytest.mark.parametrize("email", [BREAKS_WHEN_NORMALISED, TOO_LONG_WHEN_NORMALISED])
def test_a_reset_for_an_address_invalid_once_normalised_is_a_form_error(client, alice, email):
    response = client.post(reverse("accounts:password_reset"), {"email": email})
    assert response.status_code == 200
    assert 'id="id_email_error"' in response.content.decode()
    assert mail.outbox == []
