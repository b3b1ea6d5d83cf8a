"""CACHES settings that put the site's cache in a real Redis, and a cache that counts calls."""

from django_redis.cache import RedisCache

from tests.support.services import TEST_REDIS_URL


def redis_cache_settings(url: str = TEST_REDIS_URL, prefix: str = "test") -> dict:
    """Return a CACHES setting that points the default cache at a real Redis server."""
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }


def private_redis_cache_settings(url: str) -> dict:
    """The CACHES setting of config/settings/base.py, pointed at ``url``."""
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "outage",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "PARSER_CLASS": "redis.connection._HiredisParser",
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }


class CountingRedisCache(RedisCache):
    """The real django-redis cache, counting the calls that reach Redis."""

    calls: list[str] = []

    def get(self, *args, **kwargs):
        self.calls.append("get")
        return super().get(*args, **kwargs)

    def get_many(self, *args, **kwargs):
        self.calls.append("get_many")
        return super().get_many(*args, **kwargs)

    def set(self, *args, **kwargs):
        self.calls.append("set")
        return super().set(*args, **kwargs)
