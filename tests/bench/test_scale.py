"""
The scale measurement, at toy sizes: sessions written in bulk must be the ones the
session stores then find, and the run must leave nothing behind.
"""

import pytest
import redis as redis_lib
from django.contrib.sessions.models import Session

from bench.progress import Progress
from bench.scale import (
    DB_KEY_PREFIX,
    ScaleUnavailable,
    db_sessions_scale,
    minimal_session_data,
    redis_sessions,
)
from tests.support.services import TEST_REDIS_URL

QUIET = Progress(1, enabled=False)


@pytest.mark.redis
def test_redis_sessions_are_found_by_the_session_store_at_each_size():
    levels = redis_sessions(
        url=TEST_REDIS_URL,
        sizes=[100, 300],
        session_data=minimal_session_data(),
        samples=50,
        flush=True,
        progress=QUIET,
    )
    assert [level["stored"] for level in levels] == [100, 300]
    assert all(level["lookup"]["lookups"] == 50 for level in levels)
    # MEMORY USAGE per key, not INFO's server-wide total that other clients move too.
    assert all(level["memory_usage_median_bytes"] > level["value_bytes"] for level in levels)


@pytest.mark.redis
def test_the_redis_scale_database_is_empty_afterwards():
    redis_sessions(
        url=TEST_REDIS_URL,
        sizes=[50],
        session_data=minimal_session_data(),
        samples=5,
        flush=True,
        progress=QUIET,
    )
    assert redis_lib.Redis.from_url(TEST_REDIS_URL).dbsize() == 0


@pytest.mark.redis
def test_a_redis_database_holding_other_keys_is_left_alone_unless_told_to_flush():
    client = redis_lib.Redis.from_url(TEST_REDIS_URL)
    client.set("someone-else:key", b"keep me")
    try:
        with pytest.raises(ScaleUnavailable, match="holds 1 keys"):
            redis_sessions(
                url=TEST_REDIS_URL,
                sizes=[10],
                session_data=minimal_session_data(),
                samples=5,
                flush=False,
                progress=QUIET,
            )
        assert client.get("someone-else:key") == b"keep me"
    finally:
        client.delete("someone-else:key")


# VACUUM FULL (PostgreSQL) cannot run inside the test's transaction.
@pytest.mark.django_db(transaction=True)
def test_database_sessions_are_found_by_the_session_store_and_removed_afterwards():
    levels = db_sessions_scale(
        sizes=[100, 300],
        session_data=minimal_session_data(),
        samples=50,
        budget_s=60,
        progress=QUIET,
    )
    assert [level["sessions"] for level in levels] == [100, 300]
    assert all(level["lookup"]["lookups"] == 50 for level in levels)
    assert not Session.objects.filter(session_key__startswith=DB_KEY_PREFIX).exists()


@pytest.mark.django_db(transaction=True)
def test_a_size_that_would_exceed_the_time_budget_is_skipped_with_its_estimate():
    levels = db_sessions_scale(
        sizes=[100, 10**9],
        session_data=minimal_session_data(),
        samples=10,
        budget_s=1,
        progress=QUIET,
    )
    assert levels[1]["sessions"] == 10**9
    assert levels[1]["skipped"].startswith("would take ~")
