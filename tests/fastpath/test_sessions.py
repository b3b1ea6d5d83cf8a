"""
The fast path's storefront pieces (fastpath/sessions.py, fastpath/session_store.py): the
user snapshot, and the session's GET sent early on a connection of its own.
"""

from importlib import import_module

import pytest
import redis
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db.models.signals import post_init
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts import sessions
from accounts.models import User
from fastpath import sessions as fast_sessions
from fastpath.session_store import SessionStore
from tests.support.caches import private_redis_cache_settings
from tests.support.services import TEST_REDIS_URL
from tests.support.storefront import age_session, me, session_key, sign_in
from tests.support.threads import run_in_threads

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_path")]


def test_the_user_snapshot_is_refreshed_by_the_activity_check(client, user, password, settings):
    sign_in(client, user, password)
    type(user).objects.filter(pk=user.pk).update(first_name="Renamed")
    me(client)
    assert client.session["_auth_user_snapshot"]["first_name"] == user.first_name
    age_session(client, since_activity=settings.SESSION_ACTIVITY_THROTTLE_SECONDS + 1)
    me(client)
    assert client.session["_auth_user_snapshot"]["first_name"] == "Renamed"


@pytest.mark.redis
def test_the_session_get_is_sent_before_anything_reads_the_session(
    client, user, password, redis_sessions, redis_commands, monkeypatch
):
    # The GET leaves as soon as the middleware has the cookie; Redis answers while the
    # rest of the request is prepared (fastpath.session_store.SessionStore.prefetch).
    sign_in(client, user, password)
    # The first request of a thread opens its session connection (HELLO, CLIENT SETINFO,
    # SELECT, sent after the GET is queued): make it before counting, as in a warm worker.
    assert me(client).status_code == 200
    sent_before_first_read = []
    original = sessions.session_user

    def spying_session_user(request, load_user=None):
        sent_before_first_read.extend(redis_commands)
        return original(request, load_user)

    monkeypatch.setattr(sessions, "session_user", spying_session_user)
    redis_commands.clear()
    assert me(client).status_code == 200
    assert sent_before_first_read == ["GET"]
    assert redis_commands == ["GET"]


@pytest.fixture
def two_browsers(user, other_user, password, redis_sessions):
    """Two browsers with sessions in Redis: one signed in as ``user``, one as ``other_user``."""
    mine, theirs = Client(), Client()
    sign_in(mine, user, password)
    sign_in(theirs, other_user, password)
    return mine, theirs


@pytest.mark.redis
def test_an_unread_session_answer_does_not_leak_into_the_next_request(
    user, other_user, two_browsers
):
    # /healthz never reads the session: its prefetched answer is drained, not left on
    # the connection for the next request to mistake for its own.
    mine, theirs = two_browsers
    for _ in range(3):
        assert mine.get(reverse("shop:healthz")).status_code == 200
        assert me(theirs).json()["email"] == other_user.email
        assert me(mine).json()["email"] == user.email


@pytest.mark.redis
def test_a_session_answer_nobody_read_never_answers_another_session(other_user, two_browsers):
    # A request that sent its GET and ended without reading the answer (a bug, a worker
    # interrupted): the thread's next GET must not take that answer for its own.
    mine, theirs = two_browsers
    SessionStore(session_key(mine)).prefetch()
    assert SessionStore(session_key(theirs)).load()[SESSION_KEY] == str(other_user.pk)


def _close_session_connections_from_the_server():
    """Have Redis close every connection to the test database except the one asking."""
    admin = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        own_id = admin.client_id()
        database = admin.connection_pool.connection_kwargs.get("db", 0)
        killed = 0
        for connection in admin.client_list():
            if int(connection["db"]) == database and int(connection["id"]) != own_id:
                killed += admin.client_kill_filter(_id=connection["id"])
    finally:
        admin.close()
    assert killed, "no connection to close: the test would prove nothing"


@pytest.mark.redis
def test_a_connection_the_server_closed_is_replaced_within_the_request(
    client, user, password, redis_sessions
):
    # An idle timeout or a restart closes the session connection between two requests:
    # the next request notices when it uses it, and asks once more on a new connection.
    sign_in(client, user, password)
    assert me(client).status_code == 200
    _close_session_connections_from_the_server()
    response = me(client)
    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_a_session_store_that_is_down_costs_one_attempt_per_request(
    client, user, password, private_redis, settings, monkeypatch
):
    settings.CACHES = private_redis_cache_settings(private_redis.url)
    settings.SESSION_ENGINE = "fastpath.session_store"
    sign_in(client, user, password)
    assert me(client).status_code == 200
    private_redis.stop()
    # The first request finds its connection closed and tries a new one, refused.
    assert me(client).status_code == 503
    attempts = []
    original = SessionStore._send_get

    def counting_send_get(store):
        attempts.append(store.session_key)
        return original(store)

    monkeypatch.setattr(SessionStore, "_send_get", counting_send_get)
    # Later requests start on a new connection: its failure is not worth a second wait.
    assert me(client).status_code == 503
    assert len(attempts) == 1


def test_the_user_rebuilt_from_the_snapshot_is_loaded_with_the_rest_deferred(user, password):
    rebuilt = fast_sessions._user_from_snapshot(fast_sessions._snapshot(user))
    assert (rebuilt.pk, rebuilt.email, rebuilt.is_active) == (user.pk, user.email, True)
    assert not rebuilt._state.adding
    assert rebuilt._state.db == "default"
    assert rebuilt.get_deferred_fields() == {
        field.attname
        for field in User._meta.concrete_fields
        if field.attname not in fast_sessions.SNAPSHOT_FIELDS
    }
    # A deferred field loads on first use; save() writes only what was loaded.
    assert rebuilt.password == user.password
    rebuilt.first_name = "Renamed"
    rebuilt.save()
    user.refresh_from_db()
    assert user.first_name == "Renamed"
    assert user.check_password(password)


def test_the_snapshot_user_is_made_the_ordinary_way_when_someone_listens(user):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=User)
    try:
        rebuilt = fast_sessions._user_from_snapshot(fast_sessions._snapshot(user))
    finally:
        post_init.disconnect(receiver, sender=User)
    assert seen == [rebuilt]
    assert rebuilt.email == user.email
    assert not rebuilt._state.adding


def test_session_reads_from_new_threads_reuse_a_bounded_number_of_connections(
    client, user, password, private_redis, settings
):
    # Under ASGI, asgiref runs each request's sync code in a thread of its own: connections
    # held per thread would mean one new Redis connection per request. Held connections go
    # back to the process's idle ones once their answer is read, so the requests below (40,
    # four at a time, each in a new thread) open no more connections than run at once, with
    # the cache pool's own for the session's writes.
    settings.CACHES = private_redis_cache_settings(private_redis.url)
    settings.SESSION_ENGINE = "fastpath.session_store"
    sign_in(client, user, password)
    assert me(client).status_code == 200
    cookies = client.cookies
    server = redis.Redis.from_url(private_redis.url)

    def as_a_new_browser_tab():
        tab = Client()
        tab.cookies = cookies
        return me(tab).json()["email"]

    concurrency = 4
    try:
        opened_before = server.info("stats")["total_connections_received"]
        for _ in range(10):
            assert run_in_threads([as_a_new_browser_tab] * concurrency) == [user.email] * 4
        opened = server.info("stats")["total_connections_received"] - opened_before
    finally:
        server.close()
    assert opened <= 2 * concurrency, f"{opened} connections opened for 40 requests"


@pytest.mark.redis
@pytest.mark.parametrize(
    "options",
    [{}, {"COMPRESSOR": "django_redis.compressors.zlib.ZlibCompressor"}],
    ids=["plain", "zlib"],
)
def test_a_session_is_read_back_as_django_redis_wrote_it_whatever_the_compressor(settings, options):
    # The fast store decodes with the cache's own compressor and serializer (not through
    # client.decode(), whose int() attempt costs more than the unpickling).
    from django.core.cache import cache

    caches = private_redis_cache_settings(TEST_REDIS_URL)
    caches["default"]["OPTIONS"].update(options)
    settings.CACHES = caches
    written = SessionStore()
    written["note"] = "x" * 2000  # long enough for the compressor to compress
    written["nested"] = {"a": [1, 2]}
    written.save()
    assert cache.get(written.cache_key) == {"note": "x" * 2000, "nested": {"a": [1, 2]}}
    read = SessionStore(written.session_key)
    assert read.load() == {"note": "x" * 2000, "nested": {"a": [1, 2]}}
    read.delete()


def test_after_the_view_the_snapshot_follows_the_users_fields_and_only_when_they_changed(
    client, user, password, monkeypatch
):
    sign_in(client, user, password)
    assert me(client).status_code == 200  # the snapshot is in the session now
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key(client))

    def one_request(view_changes):
        request = RequestFactory().get("/")
        request.session = store
        middleware = fast_sessions.SnapshotAuthenticationMiddleware(lambda r: HttpResponse())
        middleware.process_request(request)
        assert request.user.is_authenticated  # built from the snapshot
        view_changes(request.user)
        middleware.process_response(request, HttpResponse())
        return store.modified

    # Nothing assigned: not even compared, let alone written.
    with monkeypatch.context() as patched:
        patched.setattr(fast_sessions, "_snapshot", lambda user: pytest.fail("compared"))
        assert not one_request(lambda u: None)
    # A field set to an equal value: compared, and the session is not written.
    assert not one_request(lambda u: setattr(u, "first_name", "".join(user.first_name)))
    # A field the view changed is what the next request's user shows.
    assert one_request(lambda u: setattr(u, "first_name", "Renamed"))
    assert store[fast_sessions.SNAPSHOT_KEY]["first_name"] == "Renamed"
    # A snapshot stored when SNAPSHOT_FIELDS had a field it has no more is rewritten without it.
    store[fast_sessions.SNAPSHOT_KEY] = {**store[fast_sessions.SNAPSHOT_KEY], "retired": 1}
    store.save()
    store.modified = False
    assert one_request(lambda u: None)
    assert "retired" not in store[fast_sessions.SNAPSHOT_KEY]
