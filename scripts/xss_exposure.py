"""
Measure what an injected script gets under each credential pattern, and put the table in
the guide.

Runs tests/browser/test_xss_exposure.py in Chromium with XSS_EXPOSURE_WRITE=1, which writes
docs/xss-exposure.json from what it saw, then scripts/render_comparison.py, which renders
that file into docs/comparison.md. Run it after changing how /app/ or the storefront keeps
a credential; commit both files.

    .venv/bin/python scripts/xss_exposure.py
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    env = {**os.environ, "XSS_EXPOSURE_WRITE": "1"}
    measured = subprocess.run(  # noqa: S603 - this interpreter, our own test file.
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/browser/test_xss_exposure.py",
        ],
        cwd=ROOT,
        env=env,
        check=False,
    )
    if measured.returncode != 0:
        return measured.returncode
    rendered = subprocess.run(  # noqa: S603 - this interpreter, our own script.
        [sys.executable, "scripts/render_comparison.py"], cwd=ROOT, check=False
    )
    return rendered.returncode


if __name__ == "__main__":
    sys.exit(main())
