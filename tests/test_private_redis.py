"""The private_redis fixture: a Redis server a test may stop and start for outage tests."""

import pytest
import redis


def test_private_redis_is_an_empty_server_that_persists_nothing(private_redis):
    client = redis.Redis.from_url(private_redis.url, decode_responses=True)
    assert client.info("server")["tcp_port"] == private_redis.port
    assert client.dbsize() == 0
    assert client.config_get("save") == {"save": ""}
    assert client.config_get("appendonly") == {"appendonly": "no"}


def test_stopped_private_redis_refuses_connections(private_redis):
    private_redis.stop()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(private_redis.url, socket_connect_timeout=1).ping()


def test_started_again_private_redis_serves_the_same_url(private_redis):
    client = redis.Redis.from_url(private_redis.url, socket_connect_timeout=1)
    private_redis.stop()
    private_redis.start()
    assert client.ping()


def test_private_redis_keeps_nothing_across_a_restart(private_redis):
    client = redis.Redis.from_url(private_redis.url, socket_connect_timeout=1)
    client.set("cart", "3 items")
    private_redis.stop()
    private_redis.start()
    assert client.get("cart") is None
