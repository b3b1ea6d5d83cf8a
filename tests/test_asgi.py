"""
The site under ASGI (config/asgi.py, as uvicorn serves it), on the stock path and the fast
path: every middleware runs in async mode, so Django adds no thread switch between them;
the authenticated paths answer as they do under WSGI, through Django's AsyncClient.
"""

import secrets
from importlib import import_module

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.test import AsyncClient
from django.urls import path, reverse
from django.utils.module_loading import import_string

from config.urls import urlpatterns as root_urlpatterns
from tests.support.factories import UserFactory

pytestmark = [pytest.mark.both_paths]


async def _view(request):
    raise AssertionError("not called")


def test_every_middleware_runs_in_async_mode_under_asgi():
    for dotted in settings.MIDDLEWARE:
        middleware = import_string(dotted)
        assert getattr(middleware, "async_capable", False), dotted
        # What Django looks at to decide whether to adapt it: a coroutine function, given
        # an async next step.
        assert iscoroutinefunction(middleware(_view)), dotted


@pytest.fixture
def shopper(db, password):
    return UserFactory(password=password)


def _get(client, path, **extra):
    return async_to_sync(client.get)(path, **extra)


def _post(client, path, data=None, **extra):
    return async_to_sync(client.post)(path, data or {}, **extra)


def test_a_session_signs_in_reads_and_signs_out_under_asgi(shopper, password):
    client = AsyncClient()
    signed_in = _post(
        client, reverse("accounts:login"), {"username": shopper.email, "password": password}
    )
    assert signed_in.status_code == 302, signed_in.content

    me = _get(client, reverse("accounts:me"))
    assert (me.status_code, me.json()["email"]) == (200, shopper.email)
    assert "no-store" in me["Cache-Control"]

    assert _post(client, reverse("accounts:logout")).status_code == 302
    assert _get(client, reverse("accounts:me")).status_code == 401


def test_a_bearer_token_works_under_asgi_and_a_signed_out_one_is_refused(shopper, password):
    client = AsyncClient()
    pair = _post(
        client,
        reverse("api:token_obtain"),
        {"email": shopper.email, "password": password},
        content_type="application/json",
    )
    assert pair.status_code == 200, pair.content
    auth = {"headers": {"Authorization": f"Bearer {pair.json()['access']}"}}

    me = _get(client, reverse("api:me"), **auth)
    assert (me.status_code, me.json()["email"]) == (200, shopper.email)
    assert "no-store" in me["Cache-Control"]

    signed_out = _post(
        client,
        reverse("api:logout"),
        {"refresh": pair.json()["refresh"]},
        content_type="application/json",
    )
    assert signed_out.status_code in (200, 204), signed_out.content
    refused = _post(
        client,
        reverse("api:token_refresh"),
        {"refresh": pair.json()["refresh"]},
        content_type="application/json",
    )
    assert refused.status_code == 401


def test_a_bearer_request_from_a_signed_in_browser_answers_under_asgi(shopper, password):
    # The browser holds a session cookie and calls the API with a token: the API never
    # reads the session, and nothing after the view may read it in the event loop (with
    # the database store that is a query Django refuses there, a 500).
    client = AsyncClient()
    signed_in = _post(
        client, reverse("accounts:login"), {"username": shopper.email, "password": password}
    )
    assert signed_in.status_code == 302, signed_in.content
    pair = _post(
        client,
        reverse("api:token_obtain"),
        {"email": shopper.email, "password": password},
        content_type="application/json",
    )
    auth = {"headers": {"Authorization": f"Bearer {pair.json()['access']}"}}

    me = _get(client, reverse("api:me"), **auth)

    assert (me.status_code, me.json()["email"]) == (200, shopper.email)
    assert _get(client, reverse("accounts:me")).json()["email"] == shopper.email


def test_a_malformed_session_cookie_is_deleted_under_asgi(db):
    client = AsyncClient()
    client.cookies[settings.SESSION_COOKIE_NAME] = "not a session key!"

    answer = _get(client, reverse("shop:catalog"))

    assert answer.status_code == 200
    assert answer.cookies[settings.SESSION_COOKIE_NAME].value == ""


def _many_messages(request):
    # More than the messages cookie holds (2 KB, compressed: so text that does not
    # compress): the rest goes to the session, which this view never reads.
    for _ in range(60):
        messages.info(request, secrets.token_hex(60))
    return HttpResponse("ok")


urlpatterns = [path("many-messages/", _many_messages), *root_urlpatterns]


@pytest.mark.urls(__name__)
def test_messages_that_overflow_into_an_unread_session_are_kept_under_asgi(db):
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    visitor = store_class()
    visitor["seen"] = True  # a visitor with a session: writing to it loads it first
    visitor.save()
    client = AsyncClient()
    client.cookies[settings.SESSION_COOKIE_NAME] = visitor.session_key

    answer = _get(client, "/many-messages/")

    assert answer.status_code == 200
    # The overflow was written to the session, saved, and its cookie set.
    key = answer.cookies[settings.SESSION_COOKIE_NAME].value
    store = store_class(session_key=key)
    assert store["seen"] is True
    assert len(store["_messages"]) > 0
