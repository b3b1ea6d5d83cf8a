"""
The revocation lag of SESSION_CLIENT_CACHE=1 (fastpath/client_cache.py), measured under load:
from the answer to a sign-out on one worker to the first refused request on every worker.

Each worker is a gunicorn server of its own (one sync worker each), so that a request can be
sent to a chosen worker; every one is kept busy by a signed-in client while the trials run.
A trial signs a new session in, has every worker read it (so each holds a copy), signs it out
through the first worker and, from that answer on, asks every worker with the old cookie
until it is refused. A worker's lag is the time from the sign-out's answer to the start of
its first refused request (so it includes the time of the requests still served); the
trial's lag is the largest over the workers: the time until the session is refused
everywhere. With stock sessions in Redis the lag is zero by construction: every request
reads Redis.
"""

import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings

from .credentials import Unavailable, check_endpoint, session_sign_in
from .modes import DEMO_CREDENTIALS, DEMO_USERS
from .server import GunicornServer
from .stats import median, percentile
from .transport import HttpTransport

ME_PATH = "/accounts/me/"
LOGOUT_PATH = "/accounts/logout/"
# The target of issue 17, point 6, on loopback.
TARGET_P99_MS = 5.0
# A refusal that takes longer than this is reported as not refused at all.
GIVE_UP_S = 5.0


def _sign_out(transport: HttpTransport, headers: dict[str, str]) -> None:
    # The CSRF cookie's secret is accepted as the form's token, as Django's own check allows.
    cookies = SimpleCookie()
    cookies.load(headers["Cookie"])
    token = cookies.get(settings.CSRF_COOKIE_NAME)
    answer = transport.request(
        "POST",
        LOGOUT_PATH,
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode({"csrfmiddlewaretoken": token.value if token else ""}).encode(),
    )
    if answer.status not in (301, 302, 303):
        raise Unavailable(f"POST {LOGOUT_PATH} answered {answer.status}, not a redirect")


def _first_refusal(transport: HttpTransport, headers: dict[str, str], since: float) -> dict:
    """Ask until refused; return the lag (ms) and how many requests were still served."""
    served = 0
    while True:
        sent_at = time.perf_counter()
        if sent_at - since > GIVE_UP_S:
            return {"lag_ms": None, "served": served}
        if transport.request("GET", ME_PATH, headers=headers).status != 200:
            return {"lag_ms": max(0.0, (sent_at - since) * 1000), "served": served}
        served += 1


class _Busy:
    """One signed-in client per worker, asking for the private page until stopped."""

    def __init__(self, transports, headers):
        self.stop = threading.Event()
        self.requests = 0
        self.threads = [
            threading.Thread(target=self._run, args=(t, headers), daemon=True) for t in transports
        ]

    def _run(self, transport, headers) -> None:
        while not self.stop.is_set():
            transport.request("GET", ME_PATH, headers=headers)
            self.requests += 1

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)


def _trial(transports: list[HttpTransport]) -> list[dict]:
    headers = session_sign_in(
        transports[0], **DEMO_CREDENTIALS, session_cookie=settings.SESSION_COOKIE_NAME
    )
    for transport in transports:
        for _ in range(2):  # the first read keeps a copy, the second is served from it
            check_endpoint(transport, ME_PATH, headers)
    start = threading.Barrier(len(transports) + 1)
    outcomes: list[dict | None] = [None] * len(transports)
    since = [0.0]

    def poll(index, transport):
        start.wait()
        outcomes[index] = _first_refusal(transport, headers, since[0])

    pollers = [
        threading.Thread(target=poll, args=(i, t), daemon=True) for i, t in enumerate(transports)
    ]
    for poller in pollers:
        poller.start()
    _sign_out(transports[0], headers)
    since[0] = time.perf_counter()
    start.wait()
    for poller in pollers:
        poller.join(timeout=GIVE_UP_S + 5)
    return [outcome or {"lag_ms": None, "served": 0} for outcome in outcomes]


def measure(
    *, env: dict[str, str], workers: int, trials: int, logs_dir: Path, progress=None
) -> dict:
    """Start ``workers`` single-worker servers with ``env``; return the lag figures."""
    servers = [
        GunicornServer(env=env, workers=1, log_path=logs_dir / f"revocation-lag-{i}.log")
        for i in range(workers)
    ]
    started = []
    try:
        for server in servers:
            server.start()
            started.append(server)
        transports = [HttpTransport(host=s.host, port=s.port) for s in servers]
        # The busy client signs in as another demo user: the trials' sign-outs end only
        # their own session.
        busy_credentials = {**DEMO_CREDENTIALS, "email": DEMO_USERS[1]["email"]}
        busy_headers = session_sign_in(
            transports[0], **busy_credentials, session_cookie=settings.SESSION_COOKIE_NAME
        )
        per_trial, per_worker, served = [], [], []
        with _Busy(transports, busy_headers) as busy:
            for index in range(trials):
                if progress is not None:
                    progress.step(f"revocation lag: trial {index + 1}/{trials}")
                outcomes = _trial(transports)
                lags = [o["lag_ms"] for o in outcomes]
                per_worker.extend(lags)
                served.append(sum(o["served"] for o in outcomes))
                per_trial.append(None if None in lags else max(lags))
            busy_requests = busy.requests
    finally:
        for server in started:
            server.stop(wait=True)
    measured = [lag for lag in per_trial if lag is not None]
    result = {
        "name": "session-client-cache-revocation-lag",
        "label": (
            "revocation lag, SESSION_CLIENT_CACHE=1: sign-out answered → refused on every worker"
        ),
        "workers": workers,
        "trials": trials,
        "never_refused": len(per_trial) - len(measured),
        "busy_requests": busy_requests,
        "served_after_sign_out_max": max(served, default=0),
        "target_p99_ms": TARGET_P99_MS,
    }
    if measured:
        result.update(
            p50_ms=round(median(measured), 3),
            p99_ms=round(percentile(measured, 99), 3),
            max_ms=round(max(measured), 3),
            worker_p50_ms=round(median([lag for lag in per_worker if lag is not None]), 3),
        )
        result["meets_target"] = result["never_refused"] == 0 and result["p99_ms"] < TARGET_P99_MS
    return result


def format_lag(lag: dict | None) -> str:
    """The figures as the benchmark prints them."""
    if not lag:
        return ""
    if "p99_ms" not in lag:
        return f"{lag['label']}: not measured ({lag.get('error', 'no trial finished')})"
    verdict = "meets" if lag.get("meets_target") else "misses"
    return (
        f"{lag['label']}\n"
        f"  {lag['trials']} trials on {lag['workers']} workers under load: "
        f"p50 {lag['p50_ms']:.2f} ms, p99 {lag['p99_ms']:.2f} ms, max {lag['max_ms']:.2f} ms "
        f"({verdict} the target p99 < {lag['target_p99_ms']:g} ms); "
        f"never refused: {lag['never_refused']}; "
        f"requests still served after a sign-out, at most {lag['served_after_sign_out_max']}"
    )
