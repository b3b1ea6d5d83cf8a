"""Helpers for the comparison page's tests: fetch the page; results shaped like a bench run's."""

from django.urls import reverse


def compare_page(client):
    """GET the comparison page, which must answer 200; return the response."""
    response = client.get(reverse("compare"))
    assert response.status_code == 200
    return response


def sample_results(**header_changes) -> dict:
    """A results file shaped like the one ``make bench`` writes (bench/report.py)."""
    header = {
        "schema": 1,
        "date": "2026-11-20T14:05:00+00:00",
        "machine": {
            "cpu_model": "Test CPU 9000",
            "cores": 2,
            "platform": "Linux-test",
            "load_average_at_start": [0.5, 0.4, 0.3],
        },
        "versions": {"python": "3.11.7", "Django": "5.2.19", "PyJWT": "2.15.1"},
        "git": {"commit": "0123456789abcdef", "dirty": False},
        "settings": {"database": "postgresql", "conn_max_age": 60},
        "run": {
            "quick": False,
            "loadgen": "wrk",
            "threads": 2,
            "connections": 8,
            "server": "gunicorn, 2 sync workers, 127.0.0.1",
            "rounds": 3,
            "duration_s": 5,
        },
        **header_changes,
    }

    def mode(name, label, path, ratio, queries, redis_calls, rps, cpu_us=None):
        return {
            "name": name,
            "label": label,
            "kind": "mode",
            "path": path,
            "available": True,
            "rps": rps,
            "floor_rps": 1000.0,
            "ratio": ratio,
            "spread": {"ratio_min": ratio - 0.02, "ratio_max": ratio + 0.02},
            "p50_ms": 4.5,
            "p99_ms": 12.25,
            "queries": queries,
            "redis_calls": redis_calls,
            "cpu_us": cpu_us,
            "notes": [],
        }

    return {
        "header": header,
        "modes": [
            mode("session-db", "session, database store", "/accounts/me/", 0.33, 1.0, 0.0, 330),
            mode(
                "session-cache",
                "session, Redis store",
                "/accounts/me/",
                0.51,
                0.0,
                1.0,
                510,
                cpu_us={"app_us": 612.4, "redis_us": 36.6, "total_us": 649.0},
            ),
            mode("jwt-db-hs256", "JWT, database user lookup (HS256)", "/api/me/", 0.4, 1, 0, 400),
            mode("jwt-stateless-hs256", "JWT, stateless (HS256)", "/api/me/", 0.86, 0, 0, 860),
            mode("jwt-denylist-hs256", "JWT, stateless + denylist", "/api/me/", 0.6, 0, 1, 600),
            {
                "name": "session-signed-cookies",
                "label": "session, signed cookies",
                "kind": "mode",
                "path": "/accounts/me/",
                "available": False,
                "reason": "server did not start",
            },
        ],
        "micro": {
            "jwt": {
                "HS256": {
                    "sign": {"median_us": 40.0},
                    "verify": {"median_us": 46.0},
                    "token_bytes": 231,
                }
            },
            "session_load": {"cache (Redis)": {"median_us": 180.0}},
        },
        "scale": {
            "redis": [
                {
                    "sessions": 10000,
                    "bytes_per_session": 383.2,
                    "lookup": {"median_us": 176.7, "p99_us": 313.7},
                }
            ],
            "database": [{"sessions": 1000000, "skipped": "insert would take 20 min"}],
            "token_rows": {"available": False, "reason": "n/a"},
        },
        "charts": ["ratio.svg", "latency.svg"],
    }


def with_variants(data: dict, *, stock_ratio: float = 0.3) -> dict:
    """
    Turn the Redis session mode of ``sample_results()`` into a stock and a fast row, as a
    run since the fast-path switch writes them (bench/modes.py, bench/report.py).
    """
    modes = data["modes"]
    fast = next(mode for mode in modes if mode["name"] == "session-cache")
    stock = {
        **fast,
        "name": "session-cache-stock",
        "label": f"{fast['label']}, stock",
        "family": "session-cache",
        "variant": "stock",
        "ratio": stock_ratio,
        "rps": stock_ratio * fast["floor_rps"],
    }
    fast.update(
        name="session-cache-fast",
        label=f"{fast['label']}, fast path",
        family="session-cache",
        variant="fast",
        stock="session-cache-stock",
        vs_stock=fast["ratio"] / stock_ratio,
    )
    modes.insert(modes.index(fast), stock)
    return data
