"""
The load test's clients on the wire: one visitor's HTTP client (its own cookies, a fresh
connection per request, as through an HTTPS proxy), the run's shared budget, and what the
clients saw, recorded thread-safely.
"""

import http.client
import json
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode

from bench.processes import LOOPBACK as HOST

REQUEST_TIMEOUT_SECONDS = 30


class Stats:
    """Requests by kind: status counts and latencies. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        # 5xx answers and requests that got no answer; then anything else that went wrong.
        self.server_errors: list[str] = []
        self.failures: list[str] = []
        self.orders_seen: dict[str, set[int]] = defaultdict(set)
        self.double_submit_mismatches: list[str] = []

    def record(self, kind: str, status: int | None, seconds: float) -> None:
        with self._lock:
            self.statuses[kind][status if status is not None else "error"] += 1
            self.latencies[kind].append(seconds)

    def fail(self, message: str) -> None:
        with self._lock:
            self.failures.append(message)

    def server_error(self, message: str) -> None:
        with self._lock:
            self.server_errors.append(message)

    def order(self, edge: str, order_id: int) -> None:
        with self._lock:
            self.orders_seen[edge].add(order_id)

    def total(self) -> int:
        return sum(sum(counter.values()) for counter in self.statuses.values())


class Budget:
    """Stop every client at the deadline or after ``max_requests`` requests in all."""

    def __init__(self, *, seconds: float, max_requests: int):
        self.deadline = time.monotonic() + seconds
        self.remaining = max_requests
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.remaining <= 0 or time.monotonic() >= self.deadline:
                return False
            self.remaining -= 1
            return True

    def over(self) -> bool:
        return self.remaining <= 0 or time.monotonic() >= self.deadline


class OutOfBudget(Exception):
    """The run's time or request budget is spent."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    def json(self):
        return json.loads(self.body)


class HttpClient:
    """One visitor: its own cookies, a fresh connection per request, as through HTTPS."""

    def __init__(self, *, port: int, stats: Stats, budget: Budget):
        self.port = port
        self.stats = stats
        self.budget = budget
        self.origin = f"https://{HOST}:{port}"
        self.cookies: dict[str, str] = {}

    def request(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        form: dict | None = None,
        body: dict | None = None,
        headers: dict | None = None,
    ) -> Answer:
        if not self.budget.take():
            raise OutOfBudget
        sent = {
            "Host": f"{HOST}:{self.port}",
            "X-Forwarded-Proto": "https",
            "Connection": "close",
            **(headers or {}),
        }
        payload = None
        if form is not None:
            payload = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if method != "GET":
            sent["Origin"] = self.origin
            sent["Referer"] = self.origin + path
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        started = time.perf_counter()
        connection = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            connection.request(method, path, body=payload, headers=sent)
            response = connection.getresponse()
            data = response.read()
        except OSError as exc:
            self.stats.record(kind, None, time.perf_counter() - started)
            self.stats.server_error(f"{kind}: {method} {path}: {exc!r}")
            raise
        finally:
            connection.close()
        self.stats.record(kind, response.status, time.perf_counter() - started)
        for header in response.msg.get_all("Set-Cookie") or []:
            self._keep_cookie(header)
        answer = Answer(
            response.status,
            {name.lower(): value for name, value in response.getheaders()},
            data.decode("utf-8", errors="replace"),
        )
        if answer.status >= 500:
            self.stats.server_error(f"{kind}: {method} {path} answered {answer.status}")
        return answer

    def _keep_cookie(self, header: str) -> None:
        cookie = SimpleCookie()
        try:
            cookie.load(header)
        except CookieError:
            self.stats.fail(f"unparseable Set-Cookie: {header[:80]}")
            return
        for name, morsel in cookie.items():
            if morsel.value == "" or morsel["max-age"] == "0":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value
