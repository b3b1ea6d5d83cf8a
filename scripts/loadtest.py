"""
Sustained mixed load against the production settings under gunicorn (``make loadtest``).

1. A database of the run's own: a temporary SQLite file, or, when ``DATABASE_URL`` names
   PostgreSQL, a fresh database ``<name>_loadtest`` on that server (dropped afterwards).
   With ``REDIS_URL`` set, sessions live in Redis (``SESSION_BACKEND=cache``) under a key
   prefix of the run's own, deleted afterwards.
2. Migrate, collect static files, seed a few products with small stock (so that overselling
   would show) and one account per client.
3. gunicorn (2 sync workers, DEBUG off, ``config.settings.production`` with throwaway
   secrets) on a free loopback port, reached as through an HTTPS proxy
   (``X-Forwarded-Proto: https``), so every production setting stays on.
4. ``--clients`` concurrent clients (default 8) for ``--duration`` seconds (default 60),
   at most ``--max-requests`` requests in all: half browse the storefront and check out
   through its HTML forms by session, with CSRF; half sign in to the API and fill carts
   and place orders by token, with an ``Idempotency-Key``. Some checkouts are sent twice
   (a double submit must return the same order). Meanwhile a restocker tops up sold-out
   products, as staff would, so that the race for the last units goes on all run long.
5. gunicorn is stopped, and the database is checked: no product's stock is negative; per
   product, units sold == initial stock + restocked − final stock (so never more than
   was there); every order's total is the sum of its lines' quantity × unit price; the
   orders the clients were told about are exactly the orders in the database.

It prints a summary (requests by kind and status, p50/p99 latency, orders, units) and exits
non-zero on any 5xx, any failed request or any violation. Loopback only; bounded in time
and in requests. Run from the repository root with the project's virtualenv python.
"""

import argparse
import http.client
import json
import math
import os
import random
import re
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# These need the repository root on sys.path.
from bench.processes import LOOPBACK as HOST  # noqa: E402
from bench.processes import ServerError  # noqa: E402
from scripts.check_deploy import production_env, production_server  # noqa: E402

PASSWORD = "loadtest-" + uuid.uuid4().hex  # A throwaway account password for this run only.
PRODUCTS = [  # name, price, initial stock: small, so that overselling would show.
    ("Espresso cup", "3.99", 6),
    ("Moka pot", "24.50", 4),
    ("Burr grinder", "89.00", 3),
    ("Filter papers", "4.25", 10),
    ("Milk jug", "12.75", 5),
    ("Tamper", "17.10", 2),
]
RESTOCK_UNITS = 3
RESTOCK_EVERY_SECONDS = 1.0
REQUEST_TIMEOUT_SECONDS = 30

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
IDEMPOTENCY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')
DONE_RE = re.compile(r"/checkout/done/(\d+)/$")


# --- Recording what the clients saw -------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which ``fraction`` of ``values`` lie (nearest rank)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    # round() first: 0.99 * 100 is 98.99999999999999 in floating point.
    rank = max(1, math.ceil(round(fraction * len(ordered), 9)))
    return ordered[min(rank, len(ordered)) - 1]


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


# --- The two kinds of client --------------------------------------------------------------


class StorefrontShopper:
    """Browse, add to the cart and check out through the HTML forms, signed in by session."""

    edge = "storefront"

    def __init__(self, client: HttpClient, *, email: str, slugs: list[str], rng: random.Random):
        self.client = client
        self.email = email
        self.slugs = slugs
        self.rng = rng

    def _csrf(self, answer: Answer) -> str:
        match = CSRF_RE.search(answer.body)
        if not match:
            raise AssertionError(f"no CSRF token on a {answer.status} page")
        return match.group(1)

    def sign_in(self) -> None:
        page = self.client.request("storefront sign-in page", "GET", "/accounts/login/")
        answer = self.client.request(
            "storefront sign-in",
            "POST",
            "/accounts/login/",
            form={
                "csrfmiddlewaretoken": self._csrf(page),
                "username": self.email,
                "password": PASSWORD,
            },
        )
        if answer.status != 302:
            self.client.stats.fail(f"storefront sign-in of {self.email} answered {answer.status}")

    def run_once(self) -> None:
        client = self.client
        client.request("storefront catalog", "GET", "/")
        slug = self.rng.choice(self.slugs)
        page = client.request("storefront product", "GET", f"/products/{slug}/")
        client.request(
            "storefront add to cart",
            "POST",
            f"/products/{slug}/",
            form={"csrfmiddlewaretoken": self._csrf(page), "quantity": self.rng.choice((1, 1, 2))},
        )
        if self.rng.random() < 0.3:
            client.request("storefront cart", "GET", "/cart/")
        checkout = client.request("storefront checkout page", "GET", "/checkout/")
        key = IDEMPOTENCY_RE.search(checkout.body)
        if key is None:  # An empty cart: nothing to place.
            return
        form = {"csrfmiddlewaretoken": self._csrf(checkout), "idempotency_key": key.group(1)}
        placed = client.request("storefront place order", "POST", "/checkout/", form=form)
        order_id = self._placed_order(placed)
        if order_id is None:
            self._empty_cart()
            return
        if self.rng.random() < 0.2:
            again = client.request("storefront place order again", "POST", "/checkout/", form=form)
            if self._placed_order(again) != order_id:
                client.stats.double_submit_mismatches.append(
                    f"storefront order {order_id} submitted again answered {again.status} "
                    f"{again.headers.get('location', '')}"
                )
        if self.rng.random() < 0.2:
            client.request("storefront orders", "GET", "/orders/")

    def _placed_order(self, answer: Answer) -> int | None:
        if answer.status != 302:
            return None
        match = DONE_RE.search(urlsplit(answer.headers.get("location", "")).path)
        if match is None:
            return None
        self.client.stats.order(self.edge, int(match.group(1)))
        return int(match.group(1))

    def _empty_cart(self) -> None:
        # The checkout was refused (stock ran out): clear the cart so the next round can buy.
        cart = self.client.request("storefront cart", "GET", "/cart/")
        token = CSRF_RE.search(cart.body)
        for product_id in set(re.findall(r'action="/cart/items/(\d+)/remove/"', cart.body)):
            self.client.request(
                "storefront remove from cart",
                "POST",
                f"/cart/items/{product_id}/remove/",
                form={"csrfmiddlewaretoken": token.group(1) if token else ""},
            )


class ApiShopper:
    """Sign in to the API and fill the cart and place orders by bearer token."""

    edge = "api"

    def __init__(self, client: HttpClient, *, email: str, product_ids: list[int], rng):
        self.client = client
        self.email = email
        self.product_ids = product_ids
        self.rng = rng
        self.access = ""
        self.refresh = ""
        self.rounds = 0

    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {self.access}"}

    def sign_in(self) -> None:
        answer = self.client.request(
            "api token",
            "POST",
            "/api/auth/token/",
            body={"email": self.email, "password": PASSWORD},
        )
        if answer.status != 200:
            self.client.stats.fail(f"API sign-in of {self.email} answered {answer.status}")
            return
        self.access, self.refresh = answer.json()["access"], answer.json()["refresh"]

    def run_once(self) -> None:
        client = self.client
        self.rounds += 1
        if self.rounds % 10 == 0:
            answer = client.request(
                "api token refresh",
                "POST",
                "/api/auth/token/refresh/",
                body={"refresh": self.refresh},
            )
            if answer.status == 200:
                self.access, self.refresh = answer.json()["access"], answer.json()["refresh"]
            else:
                client.stats.fail(f"API refresh answered {answer.status}")
        client.request("api products", "GET", "/api/products/", headers=self._auth())
        client.request(
            "api add to cart",
            "POST",
            "/api/cart/items/",
            body={
                "product": self.rng.choice(self.product_ids),
                "quantity": self.rng.choice((1, 1, 2)),
            },
            headers=self._auth(),
        )
        if self.rng.random() < 0.3:
            client.request("api cart", "GET", "/api/cart/", headers=self._auth())
        headers = {**self._auth(), "Idempotency-Key": uuid.uuid4().hex}
        placed = client.request("api place order", "POST", "/api/orders/", headers=headers)
        if placed.status != 201:
            client.request("api empty cart", "DELETE", "/api/cart/", headers=self._auth())
            return
        order_id = placed.json()["id"]
        client.stats.order(self.edge, order_id)
        if self.rng.random() < 0.2:
            again = client.request("api place order again", "POST", "/api/orders/", headers=headers)
            if again.status != 201 or again.json()["id"] != order_id:
                client.stats.double_submit_mismatches.append(
                    f"API order {order_id} sent again answered {again.status} {again.body[:80]}"
                )


def shop(shopper, stats: Stats) -> None:
    """Run one client until the budget is spent; an unexpected error stops it and is reported."""
    try:
        shopper.sign_in()
        while not shopper.client.budget.over():
            shopper.run_once()
    except OutOfBudget:
        pass
    except OSError:
        pass  # Already recorded as a failed request.
    except Exception as exc:  # Broad on purpose: any surprise in a client is a finding.
        stats.fail(f"{shopper.edge} client {shopper.email} stopped: {exc!r}")


# --- The run's database, accounts and catalog ---------------------------------------------


@dataclass
class Ledger:
    """One product's stock story over the run."""

    name: str
    initial: int
    restocked: int
    final: int
    sold: int


@dataclass
class StoredOrder:
    pk: int
    total: Decimal
    lines: list[tuple[Decimal, int]] = field(default_factory=list)


def stock_problems(ledgers: list[Ledger]) -> list[str]:
    """Return every way the stock and the orders disagree."""
    problems = []
    for ledger in ledgers:
        available = ledger.initial + ledger.restocked
        if ledger.final < 0:
            problems.append(f"{ledger.name}: stock is negative ({ledger.final})")
        if ledger.sold > available:
            problems.append(f"{ledger.name}: oversold, {ledger.sold} sold of {available}")
        if ledger.sold != available - ledger.final:
            problems.append(
                f"{ledger.name}: {ledger.sold} sold, but stock went from {available} to "
                f"{ledger.final}"
            )
    return problems


def order_total_problems(orders: list[StoredOrder]) -> list[str]:
    """Return every order whose total is not the sum of its lines (or that has no line)."""
    problems = []
    for order in orders:
        if not order.lines:
            problems.append(f"order {order.pk} has no lines")
        lines_total = sum((price * quantity for price, quantity in order.lines), Decimal("0.00"))
        if lines_total != order.total:
            problems.append(f"order {order.pk}: total {order.total} but lines sum to {lines_total}")
    return problems


def order_id_problems(*, seen: set[int], stored: set[int]) -> list[str]:
    """Return orders the clients were told about but are not stored, and the reverse."""
    problems = []
    if seen - stored:
        problems.append(f"orders confirmed to clients but missing: {sorted(seen - stored)}")
    if stored - seen:
        problems.append(f"orders stored but never confirmed: {sorted(stored - seen)}")
    return problems


@dataclass
class Database:
    """Where the run's rows live, and how to create and drop that place."""

    url: str
    label: str
    postgres_admin_url: str | None = None
    name: str | None = None

    @classmethod
    def for_run(cls, *, configured: str, workdir: Path) -> "Database":
        if configured.startswith(("postgres://", "postgresql://")):
            parts = urlsplit(configured)
            name = f"{parts.path.lstrip('/') or 'shop'}_loadtest"
            return cls(
                url=parts._replace(path=f"/{name}").geturl(),
                label=f"PostgreSQL ({name}, dropped afterwards)",
                postgres_admin_url=parts._replace(path="/postgres").geturl(),
                name=name,
            )
        return cls(url=f"sqlite:///{workdir / 'loadtest.sqlite3'}", label="SQLite (temporary)")

    def _admin(self, statement: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.postgres_admin_url, autocommit=True) as connection:
            connection.execute(sql.SQL(statement).format(sql.Identifier(self.name)))

    def create(self) -> None:
        if self.postgres_admin_url:
            self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            self._admin("CREATE DATABASE {}")

    def drop(self) -> None:
        if self.postgres_admin_url:
            from django.db import connections

            connections.close_all()
            self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")


def seed(*, clients: int) -> tuple[list[dict], list[str]]:
    """Create the catalog and one account per client; return the products and the emails."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from shop.models import Category, Product

    category = Category.objects.create(name="Load test", slug="load-test")
    products = [
        Product.objects.create(
            category=category,
            name=name,
            slug=f"load-test-{index}",
            price=Decimal(price),
            stock=stock,
        )
        for index, (name, price, stock) in enumerate(PRODUCTS)
    ]
    # One hash for every account: hashing is deliberately slow, and these accounts live
    # only as long as the run.
    password_hash = make_password(PASSWORD)
    emails = [f"shopper{i}@loadtest.example" for i in range(clients)]
    User.objects.bulk_create(User(email=email, password=password_hash) for email in emails)
    return [
        {"pk": p.pk, "slug": p.slug, "stock": p.stock, "name": p.name} for p in products
    ], emails


class Restocker(threading.Thread):
    """Top up sold-out products every second, as staff would, and count what was added."""

    def __init__(self, *, product_ids: list[int], budget: Budget):
        super().__init__(name="restocker", daemon=True)
        self.product_ids = product_ids
        self.budget = budget
        self.added: Counter = Counter()
        self.error: Exception | None = None

    def run(self) -> None:
        from django.db import connection
        from django.db.models import F

        from shop.models import Product

        try:
            while not self.budget.over():
                time.sleep(RESTOCK_EVERY_SECONDS)
                for pk in Product.objects.filter(pk__in=self.product_ids, stock=0).values_list(
                    "pk", flat=True
                ):
                    Product.objects.filter(pk=pk).update(stock=F("stock") + RESTOCK_UNITS)
                    self.added[pk] += RESTOCK_UNITS
        except Exception as exc:  # Broad on purpose: reported as a failure of the run.
            self.error = exc
        finally:
            connection.close()


def verify(*, products: list[dict], restocked: Counter, stats: Stats) -> list[tuple[str, list]]:
    """Check the database after the run; return (check, problems) pairs."""
    from django.db.models import Sum

    from shop.models import Order, OrderLine, Product

    final = dict(Product.objects.values_list("pk", "stock"))
    sold = dict(
        OrderLine.objects.values("product_id")
        .annotate(units=Sum("quantity"))
        .values_list("product_id", "units")
    )
    ledgers = [
        Ledger(p["name"], p["stock"], restocked[p["pk"]], final[p["pk"]], sold.get(p["pk"], 0))
        for p in products
    ]
    orders = {order.pk: StoredOrder(order.pk, order.total) for order in Order.objects.all()}
    for order_id, price, quantity in OrderLine.objects.values_list(
        "order_id", "unit_price", "quantity"
    ):
        orders[order_id].lines.append((price, quantity))
    seen = set().union(*stats.orders_seen.values()) if stats.orders_seen else set()
    return [
        ("no 5xx answer and no request without an answer", stats.server_errors),
        ("every client signed in and ran to the end", stats.failures),
        (
            "no product oversold (stock never negative; sold == initial + restocked - final)",
            stock_problems(ledgers),
        ),
        (
            "every order total equals the sum of its lines",
            order_total_problems(list(orders.values())),
        ),
        (
            "the orders confirmed to clients are exactly the orders stored",
            order_id_problems(seen=seen, stored=set(orders)),
        ),
        ("a checkout sent twice returned the same order", stats.double_submit_mismatches),
    ], ledgers


# --- The summary --------------------------------------------------------------------------


def summary_lines(stats: Stats, *, seconds: float) -> list[str]:
    lines = [
        f"{'requests':<30} {'count':>7} {'2xx':>6} {'3xx':>6} {'4xx':>6} {'5xx':>5} {'err':>4}"
        f" {'p50 ms':>8} {'p99 ms':>8}"
    ]
    all_latencies = []

    def row(kind: str, statuses: Counter, latencies: list[float]) -> str:
        def band(low):
            return sum(n for s, n in statuses.items() if s != "error" and low <= s < low + 100)

        return (
            f"{kind:<30} {sum(statuses.values()):>7} {band(200):>6} {band(300):>6} {band(400):>6}"
            f" {band(500):>5} {statuses['error']:>4} {percentile(latencies, 0.5) * 1000:>8.1f}"
            f" {percentile(latencies, 0.99) * 1000:>8.1f}"
        )

    total = Counter()
    for kind in sorted(stats.statuses):
        lines.append(row(kind, stats.statuses[kind], stats.latencies[kind]))
        total.update(stats.statuses[kind])
        all_latencies.extend(stats.latencies[kind])
    lines.append(row("all", total, all_latencies))
    lines.append(f"{stats.total()} requests in {seconds:.1f} s: {stats.total() / seconds:.0f}/s")
    return lines


def run(args) -> bool:
    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp:
        workdir = Path(tmp)
        env = production_env(workdir)
        database = Database.for_run(configured=args.database_url, workdir=workdir)
        env["DATABASE_URL"] = database.url
        redis_url = args.redis_url
        prefix = f"loadtest-{uuid.uuid4().hex[:12]}"
        if redis_url:
            env.update(REDIS_URL=redis_url, SESSION_BACKEND="cache", CACHE_KEY_PREFIX=prefix)
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command

        database.create()
        try:
            call_command("migrate", verbosity=0, interactive=False)
            call_command("collectstatic", verbosity=0, interactive=False)
            products, emails = seed(clients=args.clients)
            return _serve_and_load(args, env, workdir, database, redis_url, products, emails)
        finally:
            if redis_url:
                _delete_redis_keys(redis_url, prefix)
            if not args.keep_database:
                database.drop()


def _serve_and_load(args, env, workdir, database, redis_url, products, emails) -> bool:
    stats = Stats()
    server = production_server(env, log=workdir / "gunicorn.log")
    print(
        f"loadtest: {args.clients} clients ({(args.clients + 1) // 2} storefront by session, "
        f"{args.clients // 2} API by token) for {args.duration:.0f} s or {args.max_requests} "
        f"requests; {database.label}; sessions in "
        f"{'Redis' if redis_url else 'the database'}; gunicorn on {server.url}",
        flush=True,
    )
    try:
        with server:
            elapsed, restocked = _drive(
                args, port=server.port, products=products, emails=emails, stats=stats
            )
    except ServerError as exc:
        print(f"FAIL  gunicorn starts: {exc}\n{server.log_tail(60)}")
        return False
    print("\n".join(summary_lines(stats, seconds=elapsed)))
    checks, ledgers = verify(products=products, restocked=restocked, stats=stats)
    orders = {edge: len(ids) for edge, ids in stats.orders_seen.items()}
    print(
        f"orders placed: {sum(orders.values())} (storefront {orders.get('storefront', 0)}, "
        f"API {orders.get('api', 0)})"
    )
    print(f"{'product':<16} {'initial':>7} {'restocked':>9} {'sold':>5} {'final':>5}")
    for ledger in ledgers:
        print(
            f"{ledger.name:<16} {ledger.initial:>7} {ledger.restocked:>9} {ledger.sold:>5}"
            f" {ledger.final:>5}"
        )
    for name, problems in checks:
        print(f"{'FAIL' if problems else 'PASS'}  {name}")
        for problem in problems[:20]:
            print(f"      {problem}")
    if any(problems for _, problems in checks):
        print(f"gunicorn log (tail):\n{server.log_tail(60)}")
    return not any(problems for _, problems in checks)


def _drive(args, *, port: int, products, emails, stats: Stats) -> tuple[float, Counter]:
    """Run the clients and the restocker to the end of the budget; return the seconds taken
    and the units restocked per product."""
    budget = Budget(seconds=args.duration, max_requests=args.max_requests)
    restocker = Restocker(product_ids=[p["pk"] for p in products], budget=budget)
    threads = [restocker]
    for index, email in enumerate(emails):
        client = HttpClient(port=port, stats=stats, budget=budget)
        rng = random.Random(index)  # noqa: S311 - load shapes, not secrets.
        shopper = (
            StorefrontShopper(client, email=email, slugs=[p["slug"] for p in products], rng=rng)
            if index % 2 == 0
            else ApiShopper(client, email=email, product_ids=[p["pk"] for p in products], rng=rng)
        )
        threads.append(threading.Thread(target=shop, args=(shopper, stats), name=email))
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.duration + 2 * REQUEST_TIMEOUT_SECONDS)
    if restocker.error is not None:
        stats.fail(f"restocker stopped: {restocker.error!r}")
    return time.monotonic() - began, restocker.added


def _delete_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument(
        "--max-requests", type=int, default=50_000, help="requests in all, at most (50000)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="PostgreSQL server to create the run's database on (default: DATABASE_URL; "
        "without it a temporary SQLite file)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", ""),
        help="Redis for the sessions and the cache (default: REDIS_URL; without it, "
        "database sessions)",
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="keep the PostgreSQL database afterwards"
    )
    args = parser.parse_args(argv)
    if args.clients < 2 or args.duration <= 0 or args.max_requests <= 0:
        parser.error("--clients must be 2 or more, --duration and --max-requests positive")
    passed = run(args)
    print("loadtest: PASS" if passed else "loadtest: FAIL", flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
