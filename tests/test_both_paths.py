"""The both_paths marker really runs a test on each path (tests/conftest.py)."""

import pytest
from django.conf import settings

from fastpath.conf import FAST_AUTH_MIDDLEWARE, STOCK_AUTH_MIDDLEWARE

pytestmark = pytest.mark.both_paths


def test_each_run_of_a_marked_test_sees_its_own_path_s_settings(request):
    fast = request.node.callspec.params["auth_path"] == "fast"
    assert settings.AUTH_FAST_PATH is fast
    assert (FAST_AUTH_MIDDLEWARE if fast else STOCK_AUTH_MIDDLEWARE) in settings.MIDDLEWARE
