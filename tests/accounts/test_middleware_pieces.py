"""
The project's additions to Django's session and authentication middleware are single-purpose
pieces (accounts/middleware.py): take any one out of MIDDLEWARE and the site still signs in,
serves pages and signs out, on the stock path and on the fast path.
"""

import pytest
from django.test import Client
from django.urls import reverse

from tests.support.storefront import me, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]

PIECES = [
    "accounts.middleware.SessionOutageMiddleware",
    "accounts.middleware.SessionCookieGuardMiddleware",
    "accounts.middleware.PrivateNoStoreMiddleware",
    "accounts.middleware.SignInMiddleware",
]


def test_every_piece_is_in_the_default_middleware(auth_path, settings):
    assert set(PIECES) <= set(settings.MIDDLEWARE)


@pytest.mark.parametrize("piece", PIECES)
def test_without_one_piece_the_site_still_signs_in_serves_and_signs_out(
    auth_path, piece, settings, user, password
):
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != piece]
    browser = Client()
    assert sign_in(browser, user, password).status_code == 302
    assert me(browser).json()["email"] == user.email
    assert browser.get(reverse("shop:catalog")).status_code == 200
    assert browser.get(reverse("shop:cart")).status_code == 200
    browser.post(reverse("accounts:logout"))
    assert me(browser).status_code == 401
