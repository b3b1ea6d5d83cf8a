"""Fixtures of the browser tests: one Chromium per test module, short-lived access tokens."""

import threading
import time
from datetime import timedelta

import pytest

from tests.support.webclient import ACCESS_LIFETIME_SECONDS, chromium


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module; each test opens fresh contexts (no shared state)."""
    with chromium() as launched:
        yield launched


@pytest.fixture(autouse=True)
def _live_server_requests_finish():
    """
    After a test whose browser has closed, let the live server finish the requests it was
    still serving (a page's last fetch, cut off by the close) before the test database is
    emptied: one still reading a table makes SQLite's flush fail ("database table is
    locked"). The live server serves each connection on a thread of its own.
    """
    yield
    deadline = time.monotonic() + 5
    for thread in threading.enumerate():
        if thread.name.endswith("(process_request_thread)"):
            thread.join(max(0.0, deadline - time.monotonic()))


@pytest.fixture
def short_lived_access(settings):
    """Access tokens that expire ACCESS_LIFETIME_SECONDS after issue, with no leeway."""
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "ACCESS_TOKEN_LIFETIME": timedelta(seconds=ACCESS_LIFETIME_SECONDS),
        "LEEWAY": 0,
    }
