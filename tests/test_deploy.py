"""
The deploy check (``make check-deploy``): production settings served by gunicorn and
whitenoise with DEBUG off pass every probe, and the probes do catch what they look for.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from scripts.check_deploy import external_asset_urls, is_far_future, security_header_problems

ROOT = Path(__file__).resolve().parent.parent
GOOD_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.mark.slow
def test_production_site_under_gunicorn_passes_every_deploy_check():
    result = subprocess.run(  # noqa: S603 - our own script, fixed arguments.
        [sys.executable, "scripts/check_deploy.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "FAIL" not in output
    for check in [
        "manage.py check --deploy --fail-level WARNING",
        "plain HTTP redirects to HTTPS",
        "catalog answers 200",
        "security headers over HTTPS",
        "hashed static file served with a far-future cache header",
        "missing page answers the site's 404 page, leaking nothing",
        "API docs render with local Swagger assets",
        "gunicorn stops",
    ]:
        assert f"PASS  {check}" in output


def test_good_security_headers_pass():
    assert security_header_problems(GOOD_HEADERS) == []


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Strict-Transport-Security", None),
        ("Strict-Transport-Security", "max-age=3600; includeSubDomains"),
        ("X-Content-Type-Options", None),
        ("Referrer-Policy", "unsafe-url"),
        ("X-Frame-Options", "SAMEORIGIN"),
    ],
)
def test_deploy_check_flags_a_missing_or_weak_security_header(header, value):
    headers = {**GOOD_HEADERS, header: value}
    if value is None:
        del headers[header]
    problems = security_header_problems(headers)
    assert len(problems) == 1
    assert problems[0].startswith(header)


def test_deploy_check_flags_docs_that_load_swagger_from_a_cdn():
    html = (
        '<link rel="stylesheet" href="/static/swagger-ui.css">'
        '<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>'
        '<script src="//unpkg.com/swagger-ui-dist/swagger-ui-standalone-preset.js"></script>'
    )
    assert external_asset_urls(html) == [
        "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js",
        "//unpkg.com/swagger-ui-dist/swagger-ui-standalone-preset.js",
    ]


@pytest.mark.parametrize(
    ("cache_control", "far_future"),
    [
        ("max-age=315360000, public, immutable", True),
        ("max-age=60, public", False),
        ("no-cache", False),
        ("max-age=315360000, private", False),
    ],
)
def test_deploy_check_wants_a_year_long_public_cache_for_hashed_files(cache_control, far_future):
    assert is_far_future(cache_control) is far_future
