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

This module is the run; ``loadtest_http`` holds a client's connection and what the clients
saw, ``loadtest_shoppers`` the two kinds of client, ``loadtest_shop`` the run's database
and the checks of it.
"""

import argparse
import math
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# These need the repository root on sys.path.
from bench.processes import ServerError  # noqa: E402
from scripts.check_deploy import production_env, production_server  # noqa: E402
from scripts.loadtest_http import REQUEST_TIMEOUT_SECONDS, Budget, HttpClient, Stats  # noqa: E402
from scripts.loadtest_shop import Database, Restocker, seed, verify  # noqa: E402
from scripts.loadtest_shoppers import ApiShopper, StorefrontShopper, shop  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which ``fraction`` of ``values`` lie (nearest rank)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    # round() first: 0.99 * 100 is 98.99999999999999 in floating point.
    rank = max(1, math.ceil(round(fraction * len(ordered), 9)))
    return ordered[min(rank, len(ordered)) - 1]


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
