"""/compare/: what the client holds and what the server stores, for the visitor, from the site."""

import json
import re

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from django_redis import get_redis_connection
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import services
from accounts.models import SignIn
from api.keys import public_jwk, token_backend
from compare.services import DEMO_SIGN_IN_SESSION_KEY, DEMO_USER_AGENT
from compare.xss_exposure import COLUMNS, xss_exposure
from tests.support.compare import compare_page
from tests.support.storefront import session_key, sign_in

pytestmark = pytest.mark.django_db

# Three base64url segments starting with a JSON object: a whole JWT.
WHOLE_JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")


def demo_sign_ins(user):
    return SignIn.objects.filter(user=user, kind=SignIn.Kind.TOKEN, user_agent=DEMO_USER_AGENT)


def pre_json(html: str, testid: str) -> dict:
    match = re.search(rf'<pre data-testid="{testid}">(.*?)</pre>', html, re.S)
    return json.loads(match.group(1).replace("&quot;", '"'))


# --- Everyone ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["shop:catalog", "shop:cart", "accounts:login", "compare"])
def test_every_page_links_to_the_comparison_in_the_header(client, url_name):
    html = client.get(reverse(url_name)).content.decode()
    assert f'<a href="{reverse("compare")}"' in html


def test_the_comparison_link_is_marked_current_on_the_page_itself(client):
    html = compare_page(client).content.decode()
    assert f'<a href="{reverse("compare")}" aria-current="page">Compare</a>' in html


def test_signed_out_the_page_invites_sign_in_and_starts_no_sign_in(client):
    html = compare_page(client).content.decode()
    assert 'data-testid="signed-out-invite"' in html
    assert f"{reverse('accounts:login')}?next={reverse('compare')}" in html
    assert not SignIn.objects.exists()


def test_signed_out_the_page_still_shows_the_cookie_flags_and_the_token_policy(client):
    html = compare_page(client).content.decode()
    assert f'data-testid="cookie-name">{settings.SESSION_COOKIE_NAME}<' in html
    assert "HttpOnly" in html
    assert "SameSite=Lax" in html
    assert "HS256" in html
    assert "Sample claims (not a real token)" in html


def test_the_page_says_a_refresh_retry_is_answered_and_reuse_ends_that_sign_in_only(
    client, settings
):
    settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS = 5
    html = compare_page(client).content.decode()
    assert (
        "sent again within 5 s of that use (a lost answer, two tabs) gets the same new one" in html
    )
    assert "later, it ends this sign-in and no other" in html
    settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS = 0
    html = compare_page(client).content.decode()
    assert "sent again, it ends this sign-in and no other" in html


def test_signed_in_the_page_says_how_refresh_reuse_is_answered(browser, settings):
    settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS = 5
    html = compare_page(browser).content.decode()
    assert "every API sign-in" not in html
    assert (
        "sent again within 5 s of that use (a lost answer, two tabs) gets the same new one" in html
    )


def test_the_page_shows_the_measured_xss_table_with_the_storefront_as_fourth_column(client):
    html = compare_page(client).content.decode()
    table = re.search(r'<table class="data" data-testid="xss-table">(.*?)</table>', html, re.S)
    headers = re.findall(r'<th scope="col">([^<]+)</th>', table.group(1))
    assert headers == list(COLUMNS.values())
    assert headers[-1] == "Storefront session"
    for row in xss_exposure().rows:
        assert all(escape(cell) in table.group(1) for cell in row.cells)


def test_without_xss_measurements_the_page_says_how_to_make_them(client, settings, tmp_path):
    settings.COMPARE_XSS_EXPOSURE = tmp_path / "missing.json"
    html = compare_page(client).content.decode()
    assert 'data-testid="xss-missing"' in html


def test_signed_out_the_page_offers_no_experiment_button(client):
    html = compare_page(client).content.decode()
    assert f'action="{reverse("compare_revocation")}' not in html


# --- What the client holds --------------------------------------------------------------------


def test_signed_in_the_page_shows_the_session_cookie_name_and_flags(browser):
    html = compare_page(browser).content.decode()
    assert f'data-testid="cookie-name">{settings.SESSION_COOKIE_NAME}<' in html
    assert 'class="flag">HttpOnly<' in html
    assert 'class="flag">SameSite=Lax<' in html
    assert "ends when the browser closes" in html


def test_the_page_shows_only_the_start_of_the_session_key_and_says_why(browser):
    key = session_key(browser)
    html = compare_page(browser).content.decode()
    assert key not in html
    assert f'data-testid="cookie-preview">{key[:8]}…<' in html
    assert "Why only the first characters" in html


def test_a_remembered_session_shows_its_max_age(client, user, password):
    sign_in(client, user, password, remember=True)
    html = compare_page(client).content.decode()
    assert "Max-Age 14 days" in html


def test_the_page_starts_one_token_sign_in_for_the_visitor_labelled_as_the_demo(browser, user):
    compare_page(browser)
    (demo,) = demo_sign_ins(user)
    assert demo.ended_at is None
    assert browser.session[DEMO_SIGN_IN_SESSION_KEY] == str(demo.pk)


def test_the_demo_sign_in_is_recognisable_in_your_devices(browser, user):
    compare_page(browser)
    html = browser.get(reverse("accounts:devices")).content.decode()
    assert "comparison-demo-bot" in html


def test_reloading_the_page_reuses_the_demo_sign_in_and_issues_no_refresh_token(browser, user):
    compare_page(browser)
    compare_page(browser)
    compare_page(browser)
    assert demo_sign_ins(user).count() == 1
    assert OutstandingToken.objects.filter(user=user).count() == 1


def test_another_browser_of_the_same_user_is_shown_the_same_demo_sign_in(browser, user, password):
    compare_page(browser)
    laptop = Client()
    sign_in(laptop, user, password)
    compare_page(laptop)
    (demo,) = demo_sign_ins(user)
    assert laptop.session[DEMO_SIGN_IN_SESSION_KEY] == str(demo.pk)


def test_a_new_demo_sign_in_starts_once_the_old_one_has_ended(browser, user):
    compare_page(browser)
    old = demo_sign_ins(user).get()
    services.sign_in_revoke(user=user, sign_in_id=old.pk)
    compare_page(browser)
    new = demo_sign_ins(user).get(ended_at__isnull=True)
    assert new.pk != old.pk
    assert browser.session[DEMO_SIGN_IN_SESSION_KEY] == str(new.pk)


def test_the_session_keeps_the_demo_sign_in_id_and_no_token(browser):
    compare_page(browser)
    stored = json.dumps(dict(browser.session.items()), default=str)
    assert not re.search(r"eyJ[\w-]+\.eyJ", stored)


def test_the_page_never_prints_a_whole_token(browser):
    html = compare_page(browser).content.decode()
    assert not WHOLE_JWT.search(html)


def test_the_access_token_shown_belongs_to_the_visitor_and_the_demo_sign_in(browser, user):
    html = compare_page(browser).content.decode()
    claims = pre_json(html, "access-claims")
    assert claims["user_id"] == str(user.pk)
    assert claims["sid"] == str(demo_sign_ins(user).get().pk)
    assert claims["token_type"] == "access"
    assert pre_json(html, "access-header") == {
        "alg": "HS256",
        "typ": "JWT",
        "kid": token_backend().kid,
    }


def test_the_refresh_token_is_shown_from_its_record_without_a_signature(browser, user):
    html = compare_page(browser).content.decode()
    claims = pre_json(html, "refresh-claims")
    row = OutstandingToken.objects.get(user=user)
    assert claims["jti"] == row.jti
    assert claims["token_type"] == "refresh"
    assert "keeps its header and claims <em>without</em> the signature" in html


def test_under_hs256_the_signature_is_labelled_as_one_the_client_cannot_check(browser):
    html = compare_page(browser).content.decode()
    assert "The client cannot verify this (HS256: shared secret)" in html
    assert f'href="{reverse("jwks")}"' not in html


def test_under_a_key_pair_the_signature_points_to_the_published_public_key(
    browser, asymmetric_keys
):
    html = compare_page(browser).content.decode()
    header = pre_json(html, "access-header")
    assert header["alg"] == asymmetric_keys
    assert header["kid"] == public_jwk()["kid"]
    assert f'verifiable with the public key at <a href="{reverse("jwks")}">' in html


def test_the_expiry_countdown_starts_from_the_seconds_the_token_has_left(browser, settings):
    html = compare_page(browser).content.decode()
    seconds = int(re.search(r'data-seconds="(\d+)" data-testid="access-countdown"', html).group(1))
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    assert lifetime - 5 <= seconds <= lifetime


def test_the_countdown_runs_from_a_static_file_with_no_inline_script(browser):
    html = compare_page(browser).content.decode()
    assert re.findall(r"<script\b[^>]*>", html) == [
        f'<script src="{static("compare/countdown.js")}" defer>'
    ]
    assert finders.find("compare/countdown.js") is not None


# --- What the server stores -----------------------------------------------------------------


def test_with_database_sessions_the_record_is_the_rows_size_and_expiry(
    database_sessions, browser, settings
):
    compare_page(browser)  # The first visit stores the demo sign-in's id in the session.
    record = compare_page(browser).context["session_record"]
    row = Session.objects.get(session_key=session_key(browser))
    assert record.location == "table django_session"
    assert record.bytes == len(row.session_data)
    assert abs(record.store_ttl_seconds - settings.SESSION_COOKIE_AGE) <= 5
    assert {"_auth_user_id", "_auth_user_hash", "_signin"} <= set(record.keys)


@pytest.mark.redis
def test_with_redis_sessions_the_record_is_the_keys_ttl_and_memory_usage(
    user, password, redis_everything
):
    browser = Client()
    sign_in(browser, user, password)
    key = session_key(browser)
    compare_page(browser)
    response = compare_page(browser)
    record = response.context["session_record"]
    full_key = f"{redis_everything}:1:django.contrib.sessions.cache{key}"
    redis = get_redis_connection()
    assert (
        record.store_key_preview == f"{redis_everything}:1:django.contrib.sessions.cache{key[:8]}…"
    )
    assert abs(record.store_ttl_seconds - redis.ttl(full_key)) <= 2
    assert record.bytes == redis.memory_usage(full_key)
    assert key not in response.content.decode()


def test_with_cached_database_sessions_the_record_names_the_row_and_the_cache_key(
    client, user, password, settings
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    sign_in(client, user, password)
    compare_page(client)
    record = compare_page(client).context["session_record"]
    key = session_key(client)
    assert record.backend == "cache + database"
    assert record.location.startswith("table django_session, copied in the cache under ")
    assert f"django.contrib.sessions.cached_db{key[:8]}…" in record.location
    assert record.bytes == len(Session.objects.get(session_key=key).session_data)


def test_with_signed_cookie_sessions_the_server_stores_nothing(client, user, password, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    sign_in(client, user, password)
    compare_page(client)
    response = compare_page(client)
    record = response.context["session_record"]
    assert record.location.startswith("nowhere")
    assert record.bytes == len(client.cookies[settings.SESSION_COOKIE_NAME].value)
    assert "the cookie <em>is</em> the session" in response.content.decode()


def test_the_token_side_counts_the_visitors_refresh_token_rows_and_no_access_tokens(browser, user):
    response = compare_page(browser)
    storage = response.context["token_storage"]
    assert storage.outstanding_rows == OutstandingToken.objects.filter(user=user).count() == 1
    assert storage.usable_rows == 1
    assert {row["table"] for row in storage.tables} == {
        "token_blacklist_outstandingtoken",
        "token_blacklist_blacklistedtoken",
        "accounts_signin",
    }
    html = response.content.decode()
    assert re.search(r'data-testid="access-storage"><strong>Nothing.</strong>', html)


@pytest.mark.redis
def test_with_the_denylist_on_the_token_side_lists_the_visitors_entries(
    user, password, denylist_on, django_capture_on_commit_callbacks
):
    browser = Client()
    sign_in(browser, user, password)
    compare_page(browser)
    demo = demo_sign_ins(user).get()
    with django_capture_on_commit_callbacks(execute=True):
        services.sign_in_revoke(user=user, sign_in_id=demo.pk)
    storage = compare_page(browser).context["token_storage"]
    assert [entry.sign_in_id for entry in storage.denylist_entries] == [str(demo.pk)]
    assert 0 < storage.denylist_entries[0].expires_in_seconds <= 311
