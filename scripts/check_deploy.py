"""
Check that the production settings serve the site safely (``make check-deploy``).

1. ``manage.py check --deploy --fail-level WARNING`` on ``config.settings.production``,
   with throwaway secrets generated for this run.
2. Migrate a throwaway SQLite database and collect static files into a temporary
   STATIC_ROOT.
3. Start gunicorn (DEBUG off, whitenoise serving static files) on a free loopback port and
   probe it as a browser behind an HTTPS proxy would, with ``X-Forwarded-Proto: https``,
   so SECURE_SSL_REDIRECT stays on: the catalog, a hashed static file, the 404 page, the
   API docs with their local Swagger assets, the security headers.
4. Stop gunicorn.

Each check prints PASS or FAIL; the exit status is 1 if any failed. Run with the project's
virtualenv python from the repository root: ``.venv/bin/python scripts/check_deploy.py``.
"""

import argparse
import http.client
import os
import re
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.processes import (  # noqa: E402 - needs the repository root on sys.path.
    LOOPBACK,
    Gunicorn,
    ServerError,
    manage,
    output_tail,
)

HOST = LOOPBACK
# What a TLS-terminating proxy adds: the site sees HTTPS, so SECURE_SSL_REDIRECT stays on.
THROUGH_HTTPS_PROXY = {"X-Forwarded-Proto": "https"}
ONE_YEAR = 365 * 24 * 60 * 60
# Environment variables the check passes through to the site; everything else is set here,
# so a developer's REDIS_URL or DATABASE_URL cannot change what is being checked.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
REQUIRED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
DEBUG_MARKERS = ("Traceback", "Using the URLconf", "DEBUG = True", "settings.py")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class Result:
    name: str
    ok: bool
    detail: str = ""


# --- Checks on one response: pure functions, so the tests can show they catch problems.


def security_header_problems(headers: dict[str, str]) -> list[str]:
    """Return what is wrong with the security headers of a response served over HTTPS."""
    problems = [
        f"{name}: {headers.get(name)!r}, expected {value!r}"
        for name, value in REQUIRED_HEADERS.items()
        if headers.get(name) != value
    ]
    hsts = headers.get("Strict-Transport-Security", "")
    match = re.search(r"max-age=(\d+)", hsts)
    if not match or int(match.group(1)) < ONE_YEAR or "includeSubDomains" not in hsts:
        problems.append(f"Strict-Transport-Security: {hsts!r}, expected a year+ with subdomains")
    return problems


def is_far_future(cache_control: str) -> bool:
    """Return whether Cache-Control lets browsers keep the file for a year or more."""
    match = re.search(r"max-age=(\d+)", cache_control)
    return bool(match) and int(match.group(1)) >= ONE_YEAR and "public" in cache_control


def external_asset_urls(html: str) -> list[str]:
    """Return the scripts, stylesheets and images the page loads from another host."""
    urls = re.findall(r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", html)
    return [url for url in urls if re.match(r"(?i)^(https?:)?//", url)]


def local_asset_urls(html: str) -> list[str]:
    urls = re.findall(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", html)
    return [url for url in urls if url.startswith("/")]


def debug_leaks(body: str) -> list[str]:
    return [marker for marker in DEBUG_MARKERS if marker in body]


# --- Running the site.


def production_env(workdir: Path) -> dict[str, str]:
    """Return the environment of a production run with throwaway secrets and storage."""
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": f"{HOST},localhost",
            "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
            "STATIC_ROOT": str(workdir / "static"),
        }
    )
    return env


def manage_step(*args: str, env: dict[str, str], timeout: int = 120) -> Result:
    """Run one management command as a check: PASS if it exits 0, else its output's tail."""
    name = "manage.py " + " ".join(args)
    try:
        done = manage(*args, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Result(name, False, f"no answer within {timeout} s")
    output = (done.stdout + done.stderr).strip()
    return Result(name, done.returncode == 0, output_tail(output, 15) if done.returncode else "")


def production_server(env: dict[str, str], *, log: Path) -> Gunicorn:
    """gunicorn as production runs it (2 workers, graceful stop), reached as through HTTPS."""
    return Gunicorn(env=env, log_path=log, workers=2, ready_headers=THROUGH_HTTPS_PROXY)


def fetch(port: int, path: str, *, https: bool = True, headers: dict | None = None) -> Response:
    """GET path from the server without following redirects, as if through an HTTPS proxy."""
    sent = {"Host": f"{HOST}:{port}", **(headers or {})}
    if https:
        sent.update(THROUGH_HTTPS_PROXY)
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", path, headers=sent)
        answer = connection.getresponse()
        body = answer.read()
        # Header names are case-insensitive; the checks look them up in Title-Case.
        content_headers = {name.title(): value for name, value in answer.getheaders()}
    finally:
        connection.close()
    encoded = content_headers.get("Content-Encoding")
    text = "" if encoded else body.decode("utf-8", errors="replace")
    return Response(answer.status, content_headers, text)


# --- Probes against the running site.


def probe_ssl_redirect(port: int) -> Result:
    response = fetch(port, "/", https=False)
    location = response.headers.get("Location", "")
    ok = response.status == 301 and location.startswith("https://")
    return Result("plain HTTP redirects to HTTPS", ok, f"{response.status} {location}")


def probe_catalog(port: int) -> tuple[Result, Response]:
    response = fetch(port, "/")
    leaks = debug_leaks(response.body)
    ok = response.status == 200 and not leaks
    detail = "" if ok else f"status {response.status}, debug output: {leaks}"
    return Result("catalog answers 200", ok, detail), response


def probe_security_headers(catalog: Response) -> Result:
    problems = security_header_problems(catalog.headers)
    detail = "; ".join(problems) or catalog.headers["Strict-Transport-Security"]
    return Result("security headers over HTTPS", not problems, detail)


def probe_static(port: int, catalog: Response) -> Result:
    name = "hashed static file served with a far-future cache header"
    match = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', catalog.body)
    if not match:
        return Result(name, False, "the catalog links no hashed css/site.<hash>.css")
    response = fetch(port, match.group(1), headers={"Accept-Encoding": "gzip"})
    cache_control = response.headers.get("Cache-Control", "")
    ok = response.status == 200 and is_far_future(cache_control)
    detail = (
        f"{match.group(1)}: {response.status}, Cache-Control: {cache_control}, "
        f"Content-Encoding: {response.headers.get('Content-Encoding', 'none')}"
    )
    return Result(name, ok, detail)


def probe_not_found(port: int) -> Result:
    response = fetch(port, "/no-such-page-for-the-deploy-check/")
    leaks = debug_leaks(response.body) + (["path"] if "no-such-page" in response.body else [])
    ok = response.status == 404 and 'data-status="404"' in response.body and not leaks
    detail = "" if ok else f"status {response.status}, leaks: {leaks}"
    return Result("missing page answers the site's 404 page, leaking nothing", ok, detail)


def probe_api_not_found(port: int) -> Result:
    response = fetch(port, "/api/no-such-endpoint/")
    ok = response.status == 404 and response.headers.get("Content-Type") == "application/json"
    detail = f"{response.status} {response.headers.get('Content-Type')}: {response.body[:80]}"
    return Result("missing API path answers JSON 404", ok, detail)


def probe_api_docs(port: int) -> Result:
    name = "API docs render with local Swagger assets"
    response = fetch(port, "/api/docs/")
    if response.status != 200:
        return Result(name, False, f"status {response.status}")
    external = external_asset_urls(response.body)
    if external:
        return Result(name, False, f"loads from other hosts: {external}")
    assets = [url for url in local_asset_urls(response.body) if "swagger-ui" in url]
    failing = [url for url in assets if fetch(port, url).status != 200]
    ok = bool(assets) and not failing
    detail = f"{len(assets)} Swagger assets from /static/"
    if failing:
        detail += f", failing: {failing}"
    return Result(name, ok, detail)


def probe_api_schema(port: int) -> Result:
    response = fetch(port, "/api/schema/")
    ok = response.status == 200
    return Result("OpenAPI schema answers 200", ok, "" if ok else f"status {response.status}")


def run(report: Callable[[Result], None]) -> bool:
    """Run every check, reporting each as it finishes; return whether all passed."""
    results: list[Result] = []

    def record(result: Result) -> bool:
        results.append(result)
        report(result)
        return result.ok

    with tempfile.TemporaryDirectory(prefix="check-deploy-") as tmp:
        workdir = Path(tmp)
        env = production_env(workdir)
        record(manage_step("check", "--deploy", "--fail-level", "WARNING", env=env))
        if not (
            record(manage_step("migrate", "--noinput", env=env))
            and record(manage_step("collectstatic", "--noinput", env=env))
        ):
            return False
        server = production_server(env, log=workdir / "gunicorn.log")
        try:
            with server:
                record(Result("gunicorn starts", True, server.url))
                port = server.port
                try:
                    record(probe_ssl_redirect(port))
                    catalog_result, catalog = probe_catalog(port)
                    record(catalog_result)
                    record(probe_security_headers(catalog))
                    record(probe_static(port, catalog))
                    record(probe_not_found(port))
                    record(probe_api_not_found(port))
                    record(probe_api_docs(port))
                    record(probe_api_schema(port))
                except OSError as exc:
                    record(Result("site keeps answering", False, repr(exc)))
        except ServerError as exc:
            record(Result("gunicorn starts", False, str(exc)))
            report(Result("gunicorn log", False, server.log_tail(15)))
            return False
        record(Result("gunicorn stops", server.returncode == 0, f"exit status {server.returncode}"))
    return all(result.ok for result in results)


def print_result(result: Result) -> None:
    print(f"{'PASS' if result.ok else 'FAIL'}  {result.name}", flush=True)
    if result.detail:
        for line in result.detail.splitlines():
            print(f"      {line}", flush=True)


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    passed = run(print_result)
    print("check-deploy: all checks passed" if passed else "check-deploy: FAILED", flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
