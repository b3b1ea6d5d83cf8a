"""
The outage rules under ASGI: with Redis down, Django's AsyncClient (the ASGI handler, every
middleware in async mode) gets the same 503s as the WSGI client, never a 500, and nothing
is written. The failure inside SessionMiddleware's save, after the view, is the case
that differs most: Django turns it into a 500 in a worker thread, where
SessionOutageMiddleware must still see the exception.
"""

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from django.urls import reverse

from accounts.models import SignIn
from shop.models import CartLine
from tests.outage.test_redis_outage import assert_friendly_503, assert_json_503

pytestmark = [pytest.mark.redis, pytest.mark.django_db, pytest.mark.both_paths]


def _async_twin(client) -> AsyncClient:
    twin = AsyncClient()
    twin.cookies = client.cookies
    return twin


def test_signed_in_pages_answer_503_under_asgi_while_redis_is_down(signed_in, redis_server):
    browser = _async_twin(signed_in)
    redis_server.stop()

    assert_json_503(async_to_sync(browser.get)(reverse("accounts:me")))
    assert_friendly_503(async_to_sync(browser.get)(reverse("shop:cart")))


def test_adding_to_the_cart_answers_503_under_asgi_and_writes_nothing(
    signed_in, product, redis_server
):
    browser = _async_twin(signed_in)
    redis_server.stop()

    answer = async_to_sync(browser.post)(
        reverse("shop:product_detail", kwargs={"slug": product.slug}), {"quantity": 1}
    )

    assert_friendly_503(answer)
    assert not CartLine.objects.exists()


def test_signing_in_answers_503_under_asgi_and_records_no_sign_in(
    client, shopper, password, redis_server, settings
):
    # Counters in the database, so the sign-in gets as far as the session store.
    settings.LOGIN_LOCKOUT_STORE = "database"
    redis_server.stop()

    answer = async_to_sync(AsyncClient().post)(
        reverse("accounts:login"), {"username": shopper.email, "password": password}
    )

    assert_friendly_503(answer)
    assert not SignIn.objects.exists()
    cookie = answer.cookies.get(settings.SESSION_COOKIE_NAME)
    assert cookie is None or not cookie.value
