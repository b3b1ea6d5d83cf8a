"""The both_paths marker really runs a test on each path (tests/conftest.py)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from fastpath.conf import FAST_AUTH_MIDDLEWARE, STOCK_AUTH_MIDDLEWARE


@pytest.mark.both_paths
def test_each_run_of_a_marked_test_sees_its_own_path_s_settings(request):
    fast = request.node.callspec.params["auth_path"] == "fast"
    assert settings.AUTH_FAST_PATH is fast
    assert (FAST_AUTH_MIDDLEWARE if fast else STOCK_AUTH_MIDDLEWARE) in settings.MIDDLEWARE


# Test modules named for a revocation, lifetime or outage guarantee, and the modules that
# test those guarantees under other names (privilege changes in the admin, the sign-in
# services that end and reconcile sign-ins).
GUARANTEE_NAMES = ("revocation", "revoke", "lifetime", "outage", "expir")
GUARANTEE_MODULES = ("accounts/test_admin.py", "accounts/test_signin_services.py")


def test_every_revocation_lifetime_and_outage_module_runs_both_ways():
    tests = Path(__file__).parent
    modules = {
        path
        for path in tests.rglob("test_*.py")
        if any(name in path.name for name in GUARANTEE_NAMES)
    } | {tests / name for name in GUARANTEE_MODULES}
    unmarked = sorted(
        str(path.relative_to(tests))
        for path in modules
        if not re.search(r"pytest\.mark\.both_paths\b", path.read_text())
    )
    assert not unmarked
