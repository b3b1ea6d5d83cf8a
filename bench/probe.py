"""
Count the database queries and Redis round trips per request of one mode, in process.

The benchmark runs this as ``python -m bench.probe`` in a child process whose environment
is the mode's, so it loads exactly the settings the mode's gunicorn serves with, and calls
the WSGI application (every middleware, the view, the response closing) as gunicorn does.
It reads a JSON spec from ``BENCH_PROBE_SPEC`` and prints one ``BENCH_PROBE {...}`` line
on stdout. ``ProbeProcess`` starts it and reads it later, so that two can run at once.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from .modes import Mode

MARK = "BENCH_PROBE "
SPEC_VARIABLE = "BENCH_PROBE_SPEC"
WARM_UP_REQUESTS = 2
ROOT = Path(__file__).resolve().parent.parent


class ProbeProcess:
    """The probe in a child process with the mode's environment, started now, read later."""

    def __init__(self, *, spec: dict, env: dict[str, str], timeout: float = 120.0):
        self.timeout = timeout
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.probe"],
            env={**env, SPEC_VARIABLE: json.dumps(spec)},
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def result(self) -> dict:
        """Wait for the probe; return its counts, or ``{"error": why}``."""
        try:
            out, err = self.process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return {"error": f"timed out after {self.timeout:.0f} s"}
        line = next((x for x in out.splitlines() if x.startswith(MARK)), None)
        if line is None:
            tail = (err or out).strip().splitlines()[-1:] or [
                f"exit status {self.process.returncode}"
            ]
            return {"error": tail[0]}
        return json.loads(line[len(MARK) :])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def measure(transport, path: str, headers: dict[str, str] | None, requests: int) -> dict:
    """
    Return the mean, min and max queries and Redis round trips per request to ``path``.

    The first requests are not counted: they open connections (Redis handshakes) and fill
    per-process caches, which a server under load has long done.
    """
    from .counting import CallCounter
    from .credentials import Unavailable

    for _ in range(WARM_UP_REQUESTS):
        transport.request("GET", path, headers=headers)
    queries, redis_calls = [], []
    for _ in range(requests):
        with CallCounter() as counter:
            answer = transport.request("GET", path, headers=headers)
        if answer.status != 200:
            raise Unavailable(f"GET {path} answered {answer.status} in process")
        queries.append(counter.queries)
        redis_calls.append(counter.redis_calls)
    return {
        "queries": sum(queries) / requests,
        "queries_min": min(queries),
        "queries_max": max(queries),
        "redis_calls": sum(redis_calls) / requests,
        "redis_calls_min": min(redis_calls),
        "redis_calls_max": max(redis_calls),
    }


def probe(spec: dict) -> dict:
    """
    Count the floor's calls; then, given a mode, the mode's, with the credential the
    benchmark obtained over HTTP (``headers``) or, without one, after signing in here as
    the mode's client would.
    """
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    from .credentials import Unavailable, check_endpoint, sign_in
    from .transport import WsgiTransport

    # Django is set up already (main); the handler is what get_wsgi_application() returns.
    transport = WsgiTransport(WSGIHandler())
    result: dict = {}
    try:
        check_endpoint(transport, spec["floor_path"])
        result["floor"] = measure(transport, spec["floor_path"], None, spec["requests"])
        if spec["mode"] is None:
            return result
        mode = Mode(**spec["mode"])
        headers = spec.get("headers")
        # The benchmark's credential may have expired since (an access token lives
        # minutes); then sign in afresh, as the mode's client would.
        if not headers or transport.request("GET", mode.path, headers=headers).status != 200:
            headers = sign_in(
                transport,
                mode,
                email=spec["email"],
                password=spec["password"],
                session_cookie=settings.SESSION_COOKIE_NAME,
            )
        check_endpoint(transport, mode.path, headers)
        result["mode"] = measure(transport, mode.path, headers, spec["requests"])
    except Unavailable as exc:
        result["error"] = str(exc)
    return result


def main() -> None:
    spec = json.loads(os.environ[SPEC_VARIABLE])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    import django

    django.setup()
    print(MARK + json.dumps(probe(spec)), flush=True)


if __name__ == "__main__":
    main()
