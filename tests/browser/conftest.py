"""Fixtures of the browser tests: one Chromium per test module, short-lived access tokens."""

from datetime import timedelta

import pytest

from tests.support.webclient import ACCESS_LIFETIME_SECONDS, chromium


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module; each test opens fresh contexts (no shared state)."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def short_lived_access(settings):
    """Access tokens that expire ACCESS_LIFETIME_SECONDS after issue, with no leeway."""
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "ACCESS_TOKEN_LIFETIME": timedelta(seconds=ACCESS_LIFETIME_SECONDS),
        "LEEWAY": 0,
    }
