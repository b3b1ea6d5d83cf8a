"""
The screenshots in the README and docs/: each one shown exists and is a PNG of a sensible
size, and they are exactly the pictures scripts/screenshots.py takes, so that the docs and
the script that regenerates them cannot drift apart.
"""

import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.screenshots import OUTPUT, SCREENSHOTS

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
IMAGE = re.compile(r"!\[[^\]\n]*\]\(([^)\s]+)")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 300 * 1024


def shown_images() -> dict[Path, list[str]]:
    """Every local image the documents show, resolved, with the documents showing it."""
    shown: dict[Path, list[str]] = {}
    for document in DOCUMENTS:
        for target in IMAGE.findall(document.read_text(encoding="utf-8")):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, data:
                continue
            path = (document.parent / target.split("#")[0]).resolve()
            shown.setdefault(path, []).append(document.name)
    return shown


def shown_screenshots() -> set[Path]:
    return {path for path in shown_images() if path.parent == OUTPUT}


def png_size(path: Path) -> tuple[int, int]:
    """Return a PNG's width and height from its header; fail if it is not a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR", f"{path.name} has no PNG header chunk"
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize("name", sorted(SCREENSHOTS))
def test_each_screenshot_the_script_takes_is_a_png_of_a_sensible_size(name):
    path = OUTPUT / name
    assert path.is_file(), f"{name} is missing: run .venv/bin/python scripts/screenshots.py"

    width, height = png_size(path)

    assert 300 <= width <= 1280
    assert 200 <= height <= 4000
    assert path.stat().st_size <= MAX_BYTES


def test_every_image_the_docs_show_exists():
    missing = {
        str(path.relative_to(ROOT)): documents
        for path, documents in shown_images().items()
        if not path.is_file()
    }

    assert missing == {}


def test_the_docs_show_exactly_the_screenshots_the_script_takes():
    assert {path.name for path in shown_screenshots()} == set(SCREENSHOTS)


def test_the_screenshots_folder_holds_only_what_the_script_takes():
    assert {path.name for path in OUTPUT.iterdir()} == set(SCREENSHOTS)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.own_config  # the script serves its own SQLite database
def test_the_script_retakes_every_screenshot(tmp_path):
    """What ``make screenshots`` runs, into a folder of its own: the pictures can be retaken."""
    result = subprocess.run(  # noqa: S603 - our own script, fixed arguments.
        [sys.executable, str(ROOT / "scripts" / "screenshots.py"), "--output", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert {path.name for path in tmp_path.glob("*.png")} == set(SCREENSHOTS)
    for name in SCREENSHOTS:
        width, _ = png_size(tmp_path / name)
        assert width >= 1000, name
