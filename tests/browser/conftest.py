"""The Chromium that the browser tests in this folder share, one per test module."""

import pytest

from tests.support.webclient import chromium


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module; each test opens fresh contexts (no shared state)."""
    with chromium() as launched:
        yield launched
