"""The in-process counter behind the queries/req and redis/req columns."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches

from bench.counting import CallCounter
from tests.support.caches import redis_cache_settings


@pytest.mark.django_db
def test_every_database_query_inside_the_block_is_counted(user):
    User = get_user_model()
    with CallCounter() as counter:
        User.objects.count()
        list(User.objects.filter(pk=user.pk))
    assert counter.queries == 2


@pytest.mark.django_db
def test_queries_after_the_block_are_not_counted(user):
    with CallCounter() as counter:
        get_user_model().objects.count()
    get_user_model().objects.count()
    assert counter.queries == 1


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = redis_cache_settings(prefix="bench-counting-test")
    cache = caches["default"]
    cache.set("warm", 1)  # open the connection (its handshake is not what we count)
    yield cache
    cache.delete_many(["warm", "a", "b"])


@pytest.mark.redis
def test_each_redis_command_is_one_round_trip(redis_cache):
    with CallCounter() as counter:
        redis_cache.set("a", 1)
        redis_cache.get("a")
    assert counter.redis_calls == 2


@pytest.mark.redis
def test_a_multi_key_read_or_a_pipeline_is_one_round_trip(redis_cache):
    with CallCounter() as counter:
        redis_cache.get_many(["a", "b"])
    assert counter.redis_calls == 1
    client = redis_cache.client.get_client(write=True)
    with CallCounter() as counter:
        pipe = client.pipeline(transaction=False)
        pipe.get("a")
        pipe.get("b")
        pipe.exists("a")
        pipe.execute()
    assert counter.redis_calls == 1


@pytest.mark.redis
def test_redis_calls_after_the_block_are_not_counted(redis_cache):
    with CallCounter() as counter:
        redis_cache.get("a")
    redis_cache.get("a")
    assert counter.redis_calls == 1


@pytest.mark.redis
def test_redis_calls_of_the_processs_other_threads_are_not_counted(redis_cache):
    # The client-side caching's tracking thread PINGs on its own: not the block's calls.
    client = redis_cache.client.get_client(write=True)
    with CallCounter() as counter:
        other = threading.Thread(target=client.ping)
        other.start()
        other.join()
        redis_cache.get("a")
    assert counter.redis_calls == 1
