"""compare.instrument.measure(): queries, Redis round trips and time of one block of work."""

import threading

import pytest
import redis
from django.contrib.auth import get_user_model
from redis.connection import AbstractConnection

from compare.instrument import measure
from tests.support.services import TEST_REDIS_URL

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.ping()  # Open the connection outside the measured blocks.
    yield client
    client.delete("compare-test:key")
    client.close()


def test_it_counts_the_queries_made_inside_the_block_only(user):
    User = get_user_model()
    User.objects.count()
    with measure() as measurement:
        User.objects.get(pk=user.pk)
        User.objects.filter(is_active=True).exists()
    User.objects.count()
    assert measurement.queries == 2
    assert measurement.statements[0].startswith("SELECT")


def test_it_times_the_block(db):
    with measure() as measurement:
        sum(range(10_000))
    assert measurement.microseconds > 0


@pytest.mark.redis
def test_it_counts_each_redis_command_by_name(redis_client):
    with measure() as measurement:
        redis_client.set("compare-test:key", "1")
        redis_client.get("compare-test:key")
    assert measurement.redis_commands == ["SET", "GET"]


@pytest.mark.redis
def test_a_pipeline_is_one_round_trip(redis_client):
    with measure() as measurement:
        pipe = redis_client.pipeline(transaction=False)
        pipe.set("compare-test:key", "1")
        pipe.get("compare-test:key")
        pipe.execute()
    assert measurement.redis_round_trips == 1


@pytest.mark.redis
def test_another_threads_redis_commands_are_not_counted(redis_client):
    started, release = threading.Event(), threading.Event()

    def busy_neighbour():
        other = redis.Redis.from_url(TEST_REDIS_URL)
        other.ping()
        started.set()
        release.wait(5)
        for _ in range(5):
            other.get("compare-test:key")
        other.close()

    neighbour = threading.Thread(target=busy_neighbour)
    neighbour.start()
    started.wait(5)
    with measure() as measurement:
        release.set()
        neighbour.join(5)
        redis_client.get("compare-test:key")
    assert measurement.redis_commands == ["GET"]


def _fail_while_measuring(seen: list):
    with measure():
        seen.append(AbstractConnection.send_packed_command)
        raise ZeroDivisionError


def test_the_redis_hook_is_gone_after_the_block_even_after_an_error(db):
    original = AbstractConnection.send_packed_command
    seen = []
    with pytest.raises(ZeroDivisionError):
        _fail_while_measuring(seen)
    assert seen[0] is not original
    assert AbstractConnection.send_packed_command is original


def test_nested_blocks_each_count_their_own_work_and_restore_the_hook_last(user):
    original = AbstractConnection.send_packed_command
    User = get_user_model()
    with measure() as outer:
        User.objects.count()
        with measure() as inner:
            User.objects.count()
        assert AbstractConnection.send_packed_command is not original
    assert (outer.queries, inner.queries) == (2, 1)
    assert AbstractConnection.send_packed_command is original
