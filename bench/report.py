"""
The run's outputs: the printed tables, ``latest.json`` and the header that says what
machine, code and settings produced the numbers.
"""

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

SCHEMA_VERSION = 1
PACKAGES = (
    "Django",
    "djangorestframework",
    "djangorestframework-simplejwt",
    "PyJWT",
    "cryptography",
    "django-redis",
    "redis",
    "hiredis",
    "psycopg",
    "gunicorn",
    "argon2-cffi",
)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit(root: Path) -> dict:
    def git(*args) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()

    # The results themselves do not make the code that produced them dirty.
    changes = git("status", "--porcelain", "--", ".", ":(exclude)bench/results")
    return {"commit": git("rev-parse", "HEAD") or None, "dirty": bool(changes)}


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def machine() -> dict:
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def header(*, root: Path, settings_summary: dict, run: dict) -> dict:
    return {
        "schema": SCHEMA_VERSION,
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "git": git_commit(root),
        "settings": settings_summary,
        "run": run,
    }


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)


def _num(value, fmt: str, missing: str = "-") -> str:
    return missing if value is None else format(value, fmt)


def _calls(value) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


CPU_LEGEND = (
    "app us/req, redis us/req = CPU time per request of the gunicorn processes (Django, "
    "and SQLite when it is the database) and of the Redis server, read around each run; "
    "a PostgreSQL server's is not counted"
)


VARIANTS_LEGEND = (
    "-stock = AUTH_FAST_PATH=0 (Django's and simplejwt's own pieces), -fast = AUTH_FAST_PATH=1 "
    "(the project's speed work); fast/stock = the fast row's ratio over its stock twin's, "
    "each against the floor measured beside it; the targets are the fast path's"
)


def compare_variants(entries: list[dict]) -> list[dict]:
    """
    Give every fast entry its stock twin's name and ``vs_stock``: its ratio to the floor
    over the twin's (None unless both were measured). Ratios rather than req/s, because the
    two ran on different servers minutes apart and each ratio is taken beside its own floor.
    """
    stock = {entry["family"]: entry for entry in entries if entry.get("variant") == "stock"}
    for entry in entries:
        if entry.get("variant") != "fast":
            continue
        twin = stock.get(entry["family"])
        entry["stock"] = twin["name"] if twin else None
        measured = twin is not None and entry.get("available") and twin.get("available")
        entry["vs_stock"] = (
            entry["ratio"] / twin["ratio"]
            if measured and entry.get("ratio") is not None and twin.get("ratio")
            else None
        )
    by_name = {entry["name"]: entry for entry in entries}
    for entry in entries:
        if entry.get("kind") == "mode" and entry.get("family", "").endswith("-asgi"):
            twin = by_name.get(entry["name"].replace("-asgi-", "-"))
            entry["wsgi"] = twin["name"] if twin else None
            entry["vs_wsgi"] = asgi_over_wsgi(entry, twin)
    return entries


def asgi_over_wsgi(asgi: dict, wsgi: dict | None) -> float | None:
    """uvicorn's req/s over gunicorn's for the same mode or floor (None unless both ran)."""
    if not (wsgi and asgi.get("available") and wsgi.get("available")):
        return None
    if asgi.get("rps") is None or not wsgi.get("rps"):
        return None
    return asgi["rps"] / wsgi["rps"]


def format_table(entries: list[dict]) -> str:
    """The main table: one row per floor and mode, each mode's stock row above its fast one."""
    columns = [
        ("mode", "<", 30),
        ("req/s", ">", 7),
        ("floor/s", ">", 7),
        ("ratio", ">", 6),
        ("spread", ">", 11),
        ("target", ">", 9),
        ("fast/stock", ">", 10),
        ("p50 ms", ">", 7),
        ("p99 ms", ">", 7),
        ("queries/req", ">", 11),
        ("redis/req", ">", 9),
        ("app us/req", ">", 10),
        ("redis us/req", ">", 12),
    ]
    lines = ["  ".join(f"{name:{align}{width}}" for name, align, width in columns)]
    lines.append("  ".join("-" * width for _, _, width in columns))
    notes = []
    for entry in entries:
        if not entry.get("available"):
            lines.append(f"{entry['name']:<30}  unavailable: {entry.get('reason', '')}")
            continue
        spread = entry.get("spread") or {}
        if entry.get("kind") == "floor":
            spread_text = (
                f"{spread.get('rps_min', 0):.0f}-{spread.get('rps_max', 0):.0f}/s"
                if spread.get("rps_min") is not None
                else "-"
            )
        elif spread.get("ratio_min") is not None:
            spread_text = f"{spread['ratio_min']:.2f}-{spread['ratio_max']:.2f}"
        else:
            spread_text = "-"
        target = entry.get("target")
        target_text = "-"
        if target is not None:
            target_text = f"{target:.2f} {'met' if entry.get('meets_target') else 'MISS'}"
        cells = [
            entry["name"],
            _num(entry.get("rps"), ".0f"),
            _num(entry.get("floor_rps"), ".0f"),
            _num(entry.get("ratio"), ".2f"),
            spread_text,
            target_text,
            _num(entry.get("vs_stock"), ".2f"),
            _num(entry.get("p50_ms"), ".2f"),
            _num(entry.get("p99_ms"), ".2f"),
            _calls(entry.get("queries")),
            _calls(entry.get("redis_calls")),
            _num((entry.get("cpu_us") or {}).get("app_us"), ".0f"),
            _num((entry.get("cpu_us") or {}).get("redis_us"), ".0f"),
        ]
        lines.append(
            "  ".join(
                f"{cell:{align}{width}}"
                for cell, (_, align, width) in zip(cells, columns, strict=True)
            )
        )
        notes += [f"  {entry['name']}: {note}" for note in entry.get("notes", [])]
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(lines)


def format_micro(micro: dict) -> str:
    if not micro:
        return ""
    lines = ["micro-costs (in process, median of repeats):"]
    for algorithm, costs in micro.get("jwt", {}).items():
        lines.append(
            f"  JWT {algorithm:<6} sign {costs['sign']['median_us']:8.1f} us   "
            f"verify {costs['verify']['median_us']:8.1f} us   token {costs['token_bytes']} B"
        )
    for store, timing in micro.get("session_load", {}).items():
        if isinstance(timing, dict):
            lines.append(f"  session load, {store:<16} {timing['median_us']:8.1f} us")
        else:
            lines.append(f"  session load, {store:<16} {timing}")
    for algorithm, timing in micro.get("password_check", {}).items():
        parameters = ", ".join(f"{k} {v}" for k, v in timing["parameters"].items())
        lines.append(
            f"  password check, {algorithm:<14} {timing['median_us'] / 1000:8.1f} ms"
            f"   ({parameters})"
        )
    hop = micro.get("thread_hop") or {}
    for where in ("one CPU", "any CPU"):
        if isinstance(hop.get(where), dict):
            lines.append(
                f"  thread hop, process on {where:<7} {hop[where]['median_us']:8.1f} us"
                "   (event loop to a thread and back: each sync_to_async under uvicorn)"
            )
    if micro.get("layers"):
        lines += ["", format_layers(micro["layers"])]
    return "\n".join(lines)


def format_layers(layers: dict) -> str:
    """The storefront request layer by layer (bench.layers): one column per request."""
    cases = list(layers["columns"])
    width = max(len(row) for row in layers["rows"]) + 2
    lines = [
        "a storefront request, layer by layer (in process, fast path, session in Redis; "
        "us per request, each layer without the layers inside it):",
        "  " + " " * width + "".join(f"{case:>16}" for case in cases),
    ]
    for index, row in enumerate(layers["rows"]):
        values = "".join(f"{layers['columns'][case]['rows'][index]:16.1f}" for case in cases)
        lines.append(f"  {row:<{width}}{values}")
    totals = "".join(f"{layers['columns'][case]['total_us']:16.1f}" for case in cases)
    lines.append(f"  {'total':<{width}}{totals}")
    return "\n".join(lines)


def format_scale(scale: dict) -> str:
    if not scale:
        return ""
    lines = ["scale (session lookups as the store fills):"]
    for store in ("redis", "database"):
        part = scale.get(store)
        if isinstance(part, str):
            lines.append(f"  {store}: {part}")
            continue
        for level in part or []:
            if "skipped" in level:
                lines.append(
                    f"  {store:<8} {level['sessions']:>9,} sessions: skipped, {level['skipped']}"
                )
                continue
            size = _num(level.get("bytes_per_session"), ".0f", "n/a")
            if "memory_usage_median_bytes" in level:
                size += f" (MEMORY USAGE {level['memory_usage_median_bytes']:.0f})"
            lines.append(
                f"  {store:<8} {level['sessions']:>9,} sessions: lookup "
                f"{level['lookup']['median_us']:7.1f} us (p99 {level['lookup']['p99_us']:.1f}), "
                f"{size} B/session, written in {level['write_s']:.1f} s"
            )
    tokens = scale.get("token_rows")
    if tokens:
        if not tokens.get("available"):
            lines.append(f"  token-table rows per sign-in: {tokens['reason']}")
        else:
            after = tokens["after_sign_in"]
            lines.append(
                "  token-table rows per API sign-in: "
                + ", ".join(f"{name} +{count}" for name, count in after.items())
            )
            if "after_two_refreshes" in tokens:
                lines.append(
                    "  ... after two refreshes: "
                    + ", ".join(
                        f"{name} +{count}" for name, count in tokens["after_two_refreshes"].items()
                    )
                )
            elif "refresh" in tokens:
                lines.append(f"  ... refresh: {tokens['refresh']}")
    return "\n".join(lines)


def format_asgi(entries: list[dict]) -> str:
    """uvicorn over gunicorn, req/s, for every ASGI row of the run (empty without them)."""
    rows = [entry for entry in entries if "vs_wsgi" in entry]
    if not rows:
        return ""
    lines = ["ASGI: uvicorn's req/s over gunicorn's for the same mode, in this run"]
    for entry in rows:
        value = entry["vs_wsgi"]
        shown = f"{value:.2f}" if value is not None else "-"
        lines.append(f"  {entry['name']:<34} {shown}")
    return "\n".join(lines)


def format_session_targets(entries: list[dict]) -> str:
    """Issue 17's targets for the session fast path (compare.benchmark.session_targets)."""
    from compare.benchmark import session_targets

    lines = ["Session targets (req/s over req/s, this run)"]
    for target in session_targets(entries):
        ratio = target["ratio"]
        verdict = "not measured" if ratio is None else ("met" if target["met"] else "MISS")
        shown = "-" if ratio is None else f"{ratio:.2f}"
        lines.append(f"  {target['what']:<46} {shown:>5}  target {target['target']:g}  {verdict}")
    return "\n".join(lines)
