"""
The fast path's last step of a worker's start (fastpath/startup.py): the objects the start
made are frozen out of the garbage collector's way, by both entry points, and only on the
fast path. Each entry point is imported in a child process, as a server worker imports it.
"""

import json
import subprocess
import sys

import pytest

from tests.support.processes import child_env

PROGRAM = """
import gc, importlib, json, sys
before = gc.get_freeze_count()
importlib.import_module(sys.argv[1])
print(json.dumps({"before": before, "after": gc.get_freeze_count()}))
"""


def _frozen(entry_point: str, fast: str) -> dict:
    env = child_env(
        redis=False, AUTH_FAST_PATH=fast, DJANGO_SETTINGS_MODULE="config.settings.local"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", PROGRAM, entry_point],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi"])
def test_the_fast_path_freezes_what_the_start_made_and_stock_does_not(entry_point):
    fast = _frozen(entry_point, "1")
    assert fast["before"] == 0
    # Django, the site's modules and settings: tens of thousands of objects.
    assert fast["after"] > 10_000
    assert _frozen(entry_point, "0")["after"] == 0
