"""The settings modules and the set-up commands, run as a new user would run them."""

import os

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from shop.demo import DEMO_PASSWORD
from shop.models import Product
from tests.support.processes import manage

GOOD_PRODUCTION_ENV = {
    "SECRET_KEY": "x7Kq2-unique-enough-production-secret-for-the-deploy-check-9fZ",
    "JWT_SIGNING_KEY": "Jw7-a-separate-jwt-signing-key-of-at-least-256-bits-Qp4",
    "ALLOWED_HOSTS": "shop.example.com",
}


def _manage(*args, env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS"}}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", **env_overrides})
    return manage(*args, env=env)


def test_production_settings_pass_the_deploy_check():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env_overrides=GOOD_PRODUCTION_ENV
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_settings_without_redis_keep_a_shared_lockout_and_pass_the_deploy_check():
    env = {**GOOD_PRODUCTION_ENV, "REDIS_URL": "", "SESSION_BACKEND": "db"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=env)
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_settings_with_per_process_lockout_counters_fail_the_deploy_check():
    # An in-memory SQLite database is one per process, and so would be the counters in it.
    # (LOGIN_LOCKOUT_STORE=cache without REDIS_URL does not even start: see
    # tests/config/test_misconfiguration.py.)
    env = {**GOOD_PRODUCTION_ENV, "REDIS_URL": "", "SESSION_BACKEND": "db"}
    env.update(LOGIN_LOCKOUT_STORE="database", DATABASE_URL="sqlite://:memory:")
    result = _manage("check", "--deploy", env_overrides=env)
    assert result.returncode != 0
    assert "accounts.E001" in result.stderr


@pytest.mark.parametrize(
    "module", ["config.settings.production", "config.settings.bench", "config.settings.cluster"]
)
def test_production_and_what_derives_from_it_leave_out_the_local_storage_demo(module):
    result = _manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.WEBCLIENT_LOCALSTORAGE_DEMO)",
        env_overrides={**GOOD_PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": module},
    )
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "JWT_SIGNING_KEY"])
def test_production_refuses_to_start_without_its_secrets_and_hosts(missing):
    env = {**GOOD_PRODUCTION_ENV, missing: ""}
    result = _manage("check", env_overrides=env)
    assert result.returncode != 0
    assert missing in result.stderr


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_loads_the_demo_logins():
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    assert Product.objects.count() >= 200
    User = get_user_model()
    for email in ["alice@example.com", "bob@example.com", "admin@example.com"]:
        assert User.objects.get(email=email).check_password(DEMO_PASSWORD)
    assert User.objects.get(email="admin@example.com").is_staff
    assert User.objects.count() == 3


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
