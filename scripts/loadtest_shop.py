"""
The load test's shop: a database of the run's own, its catalog and accounts, the restocker
that keeps the race for the last units going, and the checks of what the database holds
once the load is over.
"""

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from scripts.loadtest_http import Budget, Stats

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
