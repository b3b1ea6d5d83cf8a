"""
The README's API walkthrough, run exactly as written (bash, curl, python3) against a live
server with the demo data, so the README cannot drift from the API.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import SignIn
from shop.models import Order

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(
    r"<!-- walkthrough:start -->\s*```sh\n(?P<script>.*?)```\s*<!-- walkthrough:end -->", re.S
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def walkthrough() -> str:
    match = BLOCK.search(README.read_text())
    assert match, "README.md has no ```sh block between the walkthrough markers"
    return match["script"]


def test_the_walkthrough_is_the_readme_s_own_curl_commands():
    script = walkthrough()
    for step in ("/auth/token/", "/me/", "/products/", "/cart/items/", "/orders/"):
        assert f'"$API{step}' in script
    assert script.count('"$API/auth/token/refresh/"') == 2  # refresh, then refused
    assert '"$API/auth/logout/"' in script
    assert "http://127.0.0.1:8000/api" in script  # what make run serves, for the reader


def test_the_readme_walkthrough_runs_as_written_from_sign_in_to_log_out(live_server):
    call_command("seed_demo", verbosity=0)
    env = {
        **os.environ,
        "API": f"{live_server.url}/api",
        # python3 in the script is this interpreter, whatever the machine's PATH holds.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    result = subprocess.run(  # noqa: S603 - the README's own block, run as a reader would.
        [shutil.which("bash") or "bash", "-e", "-o", "pipefail", "-c", walkthrough()],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (result.stdout, result.stderr)
    output = result.stdout.splitlines()
    assert json.loads(output[0])["email"] == "alice@example.com"  # step 2: /api/me/

    order = Order.objects.get(user__email="alice@example.com")
    (line,) = order.lines.all()
    assert "mug" in line.product_name.lower()
    assert line.quantity == 2
    assert str(order.total) in output  # step 5 printed the order's total

    assert "logout 204" in output
    assert output[-1].endswith(" 401")
    assert '"code":"token_not_valid"' in output[-1]
    (sign_in,) = SignIn.objects.filter(user__email="alice@example.com")
    assert sign_in.ended_at is not None
