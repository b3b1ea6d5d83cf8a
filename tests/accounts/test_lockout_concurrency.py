"""
The sign-in limit holds for the whole site: under a burst of parallel wrong passwords (real
threads on PostgreSQL and on Redis) and across worker processes (two processes sharing the
embedded SQLite file, or Redis), at most LOGIN_FAILURE_LIMIT passwords are ever checked,
and the right password is then refused while the account is locked.
"""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import RequestFactory

from accounts import lockout
from accounts.services import LoginLocked, credentials_authenticate
from bench.processes import manage
from tests.support.caches import redis_cache_settings
from tests.support.counting_hasher import COUNTING_HASHERS, CountingMD5PasswordHasher
from tests.support.services import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parent.parent.parent
LIMIT = 3
BURST = 12
ROUNDS = 5


def _burst(*, email: str, round_no: int) -> dict[str, int]:
    """Send BURST wrong passwords at once, each from its own address and thread."""
    outcomes = {"wrong": 0, "locked": 0}
    lock = threading.Lock()
    barrier = threading.Barrier(BURST)

    def guess(n: int) -> None:
        request = RequestFactory().post("/", REMOTE_ADDR=f"203.0.{round_no}.{n}")
        barrier.wait()
        try:
            credentials_authenticate(request=request, email=email, password=f"wrong-{n}")
        except LoginLocked:
            outcome = "locked"
        except ValidationError:
            outcome = "wrong"
        finally:
            connection.close()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _assert_burst_bounded(*, user, password) -> None:
    for round_no in range(ROUNDS):
        lockout.counters_clear()
        CountingMD5PasswordHasher.reset()
        outcomes = _burst(email=user.email, round_no=round_no)
        assert CountingMD5PasswordHasher.checked == LIMIT, f"round {round_no}: {outcomes}"
        assert outcomes == {"wrong": LIMIT, "locked": BURST - LIMIT}
        with pytest.raises(LoginLocked):
            credentials_authenticate(
                request=RequestFactory().post("/", REMOTE_ADDR="192.0.2.200"),
                email=user.email,
                password=password,
            )
        assert CountingMD5PasswordHasher.checked == LIMIT


@pytest.fixture
def counting(settings):
    settings.PASSWORD_HASHERS = COUNTING_HASHERS
    settings.LOGIN_FAILURE_LIMIT = LIMIT
    CountingMD5PasswordHasher.reset()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_wrong_passwords_checks_at_most_the_limit_on_postgres(
    user, password, settings, counting
):
    settings.LOGIN_LOCKOUT_STORE = "database"
    _assert_burst_bounded(user=user, password=password)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_wrong_passwords_checks_at_most_the_limit_on_redis(
    user, password, settings, counting
):
    settings.CACHES = redis_cache_settings(prefix="test-lockout-burst")
    settings.LOGIN_LOCKOUT_STORE = "cache"
    _assert_burst_bounded(user=user, password=password)


def _guesser(*args: str, env: dict[str, str], wait: bool = True):
    command = [sys.executable, "-m", "tests.support.lockout_guesser", *args]
    process = subprocess.Popen(  # noqa: S603 - our own helper, fixed arguments.
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if not wait:
        return process
    return _result(process)


def _result(process) -> dict:
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr[-3000:]
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("store", ["database", pytest.param("cache", marks=pytest.mark.redis)])
def test_two_processes_together_check_at_most_the_limit(tmp_path, store):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOGIN_FAILURE_LIMIT": str(LIMIT),
        "LOGIN_LOCKOUT_STORE": store,
        "PYTHONPATH": str(ROOT),
    }
    # Without Redis, sessions in a cache are refused at start: keep them in the database.
    env.pop("REDIS_URL", None)
    env.pop("SESSION_BACKEND", None)
    if store == "cache":
        env["REDIS_URL"] = TEST_REDIS_URL
        env["CACHE_KEY_PREFIX"] = f"test-lockout-{os.getpid()}-{time.time_ns()}"
    manage("migrate", "-v0", env=env, check=True)
    email, password = "victim@example.com", "correct-horse-battery-staple"
    _guesser("setup", email, password, env=env)
    start_at = str(time.time() + 3)
    workers = [_guesser("guess", email, password, "8", start_at, env=env, wait=False)]
    workers.append(_guesser("guess", email, password, "8", start_at, env=env, wait=False))
    results = [_result(worker) for worker in workers]
    assert sum(result["checked"] for result in results) <= LIMIT, results
    assert sum(result["wrong"] for result in results) == LIMIT, results
    assert sum(result["locked"] for result in results) == 16 - LIMIT, results
    right = _guesser("right", email, password, env=env)
    assert right == {"checked": 0, "wrong": 0, "locked": 1, "signed_in": 0}
