"""
Where a storefront request's time goes, layer by layer, in process: Django's WSGI handler
with every ``MIDDLEWARE`` entry timed on its own, the URL resolution and view after them.

Three requests, on the fast path with sessions in Redis (the ``session-cache-fast`` and
``session-cache-round-trip-fast`` modes' settings): the floor (``/healthz``, no cookie), the
round trip alone (``/healthz`` with the session's cookie: the session's GET is sent and its
answer read, nothing uses it) and the signed-in page (``/accounts/me/``). What the page
costs beyond the round trip is what decoding the session, the sign-in rules, building the
user and marking the answer private cost; the issue's target for the fast path is 0.95 of
the round trip. Times are per request, the fastest of several rounds; without a server in
front they are smaller than a server's, but the columns are comparable with each other.

It runs in a child process (``python -m bench.layers``), with the modes' environment, so
the settings are exactly those of the servers the benchmark starts.
"""

import json
import os
import subprocess
import sys
import time
from collections import defaultdict

CASES = (
    ("floor", "/healthz", False),
    ("round trip", "/healthz", True),
    ("signed-in page", "/accounts/me/", True),
)
HANDLER_ROW = "WSGI handler: request, signals, response, close"
VIEW_ROW = "URL resolution and view"
ENV = {"SESSION_BACKEND": "cache", "AUTH_FAST_PATH": "1"}


class _Timed:
    """A middleware instance whose calls add their time to ``totals[index]``."""

    def __init__(self, inner, index: int, totals: dict):
        self._inner = inner
        self._index = index
        self._totals = totals

    def __call__(self, request):
        started = time.perf_counter_ns()
        try:
            return self._inner(request)
        finally:
            self._totals[self._index] += time.perf_counter_ns() - started

    def __getattr__(self, name):
        # process_view, process_exception, process_template_response: the middleware's own.
        return getattr(self._inner, name)


def _timed_handler(totals: dict):
    """A WSGIHandler whose middleware and view are each timed (inclusive, in ``totals``)."""
    from django.conf import settings
    from django.core.handlers import base
    from django.core.handlers.wsgi import WSGIHandler
    from django.utils.module_loading import import_string

    indexes = {path: index for index, path in enumerate(settings.MIDDLEWARE)}

    def timed_import(path):
        factory = import_string(path)
        if path not in indexes:
            return factory

        def timed_factory(get_response):
            return _Timed(factory(get_response), indexes[path], totals)

        timed_factory.sync_capable = getattr(factory, "sync_capable", True)
        timed_factory.async_capable = getattr(factory, "async_capable", False)
        return timed_factory

    class TimedHandler(WSGIHandler):
        def load_middleware(self, is_async=False):
            original, base.import_string = base.import_string, timed_import
            try:
                super().load_middleware(is_async)
            finally:
                base.import_string = original

        def _get_response(self, request):
            started = time.perf_counter_ns()
            try:
                return super()._get_response(request)
            finally:
                totals[len(indexes)] += time.perf_counter_ns() - started

    return TimedHandler()


def measure(*, requests: int, rounds: int) -> dict:
    """Sign in and time each case; return rows of exclusive microseconds per request."""
    import django

    django.setup()
    from django.conf import settings

    from . import credentials
    from .modes import DEMO_CREDENTIALS
    from .transport import WsgiTransport

    totals: dict = defaultdict(int)
    handler = _timed_handler(totals)
    transport = WsgiTransport(handler)
    cookie = credentials.session_sign_in(transport, **DEMO_CREDENTIALS)
    names = [path.rsplit(".", 1)[-1] for path in settings.MIDDLEWARE]
    columns = {}
    for case, path, signed_in in CASES:
        headers = cookie if signed_in else {}
        best = None
        for _ in range(rounds + 1):  # the first round warms up
            totals.clear()
            started = time.perf_counter_ns()
            for _ in range(requests):
                answer = transport.request("GET", path, headers=headers)
                if answer.status != 200:
                    raise RuntimeError(f"GET {path} answered {answer.status}")
            elapsed = time.perf_counter_ns() - started
            inclusive = [elapsed] + [totals[i] for i in range(len(names) + 1)] + [0]
            if best is None or elapsed < best[0]:
                best = inclusive
        exclusive = [(best[i] - best[i + 1]) / requests / 1000 for i in range(len(best) - 1)]
        columns[case] = {"rows": exclusive, "total_us": best[0] / requests / 1000}
    return {
        "session_engine": settings.SESSION_ENGINE,
        "rows": [HANDLER_ROW, *names, VIEW_ROW],
        "columns": columns,
        "requests": requests,
        "rounds": rounds,
    }


def layer_costs(*, requests: int, rounds: int, env: dict[str, str] | None = None) -> dict:
    """
    Run ``measure`` in a child process with the fast path's Redis session settings, on the
    database and Redis of ``env`` (this process's environment by default), where the demo
    customer must exist (``seed_demo``).
    """
    from .under_load import MODE_VARIABLES

    inherited = os.environ if env is None else env
    # The modes' variables are this child's own, as for every server the run starts.
    env = {name: value for name, value in inherited.items() if name not in MODE_VARIABLES}
    env.update(ENV)
    done = subprocess.run(
        [sys.executable, "-m", "bench.layers", str(requests), str(rounds)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.layers failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(measure(requests=int(sys.argv[1]), rounds=int(sys.argv[2]))))
