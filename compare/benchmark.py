"""
Read the benchmark's results (``bench/results/latest.json``, written by ``make bench``)
into a summary the comparison page shows and ``docs/comparison.md`` prints as tables
(``compare.benchmark_markdown``).

Plain Python, no Django: ``scripts/render_comparison.py`` uses it without settings. Every
field is read leniently (a missing one shows as "–"), so results from an older or a quick
run still render, with what they have: a run from before the stock and fast variants
(modes named without ``-stock`` or ``-fast``) reads as fast rows without a stock twin.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

MISSING = "–"

# The modes the page's "when to pick which" quotes, under template-friendly names: each
# family's fast row (the project's own numbers, those its targets are about).
HEADLINE_MODES = {
    "session_db": "session-db",
    "session_cache": "session-cache",
    "session_signed_cookies": "session-signed-cookies",
    "jwt_db": "jwt-db-hs256",
    "jwt_stateless": "jwt-stateless-hs256",
    "jwt_denylist": "jwt-denylist-hs256",
}


@dataclass(frozen=True)
class ModeRow:
    """One measured mode (or floor) of the run."""

    name: str
    label: str
    kind: str
    path: str
    available: bool
    reason: str = ""
    # The mode's name without its variant, and the variant: "stock", "fast" or "" (floors,
    # and runs from before the variants).
    family: str = ""
    variant: str = ""
    rps: float | None = None
    floor_rps: float | None = None
    ratio: float | None = None
    ratio_min: float | None = None
    ratio_max: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    queries: float | None = None
    redis_calls: float | None = None
    # Server CPU per request (bench.cpu): the gunicorn processes, and the Redis server.
    app_cpu_us: float | None = None
    redis_cpu_us: float | None = None
    # A fast row's ratio over its stock twin's (bench.report.compare_variants).
    vs_stock: float | None = None
    # An ASGI row's req/s over the same mode's (or floor's) under gunicorn, in the same run.
    vs_wsgi: float | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Cost:
    """One in-process micro-cost: what, and its median in microseconds."""

    what: str
    median_us: float | None
    detail: str = ""


@dataclass(frozen=True)
class ScaleRow:
    store: str
    sessions: int
    lookup_median_us: float | None
    lookup_p99_us: float | None
    bytes_per_session: float | None
    skipped: str = ""


@dataclass(frozen=True)
class BenchSummary:
    """What a run measured and on what: enough to quote it with its date and machine."""

    date: datetime | None
    machine: str
    software: str
    setup: str
    load: str
    commit: str
    quick: bool
    modes: list[ModeRow]
    micro: list[Cost]
    scale: list[ScaleRow]
    token_rows: str
    charts: list[str]
    # Issue 17's session targets, measured (session_targets()).
    targets: list[dict] = field(default_factory=list)
    # SESSION_CLIENT_CACHE's revocation lag (bench/revocation_lag.py), or None.
    revocation_lag: dict | None = None
    # The network-hop rows (bench/rtt.py), or None.
    rtt: dict | None = None

    def mode(self, name: str) -> ModeRow | None:
        """
        Return the mode called ``name`` if it was measured, else None; a family's name
        finds its fast row (or, in a run from before the variants, the mode of that name).
        """
        for wanted in (name, f"{name}-fast"):
            found = next((m for m in self.modes if m.name == wanted and m.available), None)
            if found is not None:
                return found
        return None

    @property
    def headline(self) -> dict[str, ModeRow | None]:
        """The modes the decision guide quotes, by template-friendly name."""
        return {key: self.mode(name) for key, name in HEADLINE_MODES.items()}


def results_read(path: Path) -> dict | None:
    """Return the parsed results file, or None if it is missing or not valid JSON."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def _date(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _machine(header: dict) -> str:
    machine = header.get("machine") or {}
    parts = [machine.get("cpu_model") or "unknown CPU"]
    if machine.get("cores"):
        parts.append(f"{machine['cores']} cores")
    if machine.get("platform"):
        parts.append(machine["platform"])
    return ", ".join(parts)


def _software(header: dict) -> str:
    versions = header.get("versions") or {}
    names = ("python", "Django", "djangorestframework-simplejwt", "PyJWT", "django-redis")
    return ", ".join(f"{name} {versions[name]}" for name in names if versions.get(name))


def _setup(header: dict) -> str:
    settings = header.get("settings") or {}
    run = header.get("run") or {}
    parts = []
    if run.get("server"):
        parts.append(run["server"])
    if run.get("loadgen"):
        load = run["loadgen"]
        if run.get("threads") and run.get("connections"):
            load += f" -t{run['threads']} -c{run['connections']}"
        parts.append(load)
    if run.get("rounds") and run.get("duration_s"):
        parts.append(f"{run['rounds']} round(s) of {run['duration_s']} s per mode")
    if settings.get("database"):
        database = f"database {settings['database']}"
        if settings.get("conn_max_age") is not None:
            database += f" (CONN_MAX_AGE {settings['conn_max_age']})"
        parts.append(database)
    if settings.get("password_hasher"):
        parts.append(settings["password_hasher"])
    return "; ".join(parts)


def _load(header: dict) -> str:
    load = (header.get("machine") or {}).get("load_average_at_start")
    return " / ".join(f"{value:.2f}" for value in load) if load else MISSING


def _commit(header: dict) -> str:
    git = header.get("git") or {}
    if not git.get("commit"):
        return MISSING
    return git["commit"][:10] + (" (uncommitted changes)" if git.get("dirty") else "")


def _modes(data: dict) -> list[ModeRow]:
    rows = []
    for entry in data.get("modes") or []:
        spread = entry.get("spread") or {}
        cpu = entry.get("cpu_us") or {}
        rows.append(
            ModeRow(
                name=entry.get("name", "?"),
                label=entry.get("label") or entry.get("name", "?"),
                kind=entry.get("kind", "mode"),
                path=entry.get("path", ""),
                available=bool(entry.get("available")),
                reason=entry.get("reason", ""),
                family=entry.get("family") or "",
                variant=entry.get("variant") or "",
                rps=entry.get("rps"),
                floor_rps=entry.get("floor_rps"),
                ratio=entry.get("ratio"),
                ratio_min=spread.get("ratio_min"),
                ratio_max=spread.get("ratio_max"),
                p50_ms=entry.get("p50_ms"),
                p99_ms=entry.get("p99_ms"),
                queries=entry.get("queries"),
                redis_calls=entry.get("redis_calls"),
                app_cpu_us=cpu.get("app_us"),
                redis_cpu_us=cpu.get("redis_us"),
                vs_stock=entry.get("vs_stock"),
                vs_wsgi=entry.get("vs_wsgi"),
                notes=list(entry.get("notes") or []),
            )
        )
    return rows


def _micro(micro: dict) -> list[Cost]:
    costs = []
    for algorithm, timing in (micro.get("jwt") or {}).items():
        size = timing.get("token_bytes")
        detail = f"{size}-byte token" if size else ""
        for operation in ("verify", "sign"):
            median = (timing.get(operation) or {}).get("median_us")
            costs.append(Cost(f"JWT {operation}, {algorithm}", median, detail))
    for store, timing in (micro.get("session_load") or {}).items():
        if isinstance(timing, dict):
            costs.append(Cost(f"session load, {store}", timing.get("median_us")))
    for algorithm, timing in (micro.get("password_check") or {}).items():
        parameters = timing.get("parameters") or {}
        detail = ", ".join(
            f"{k} {v}" for k, v in parameters.items() if k not in ("algorithm", "variety")
        )
        costs.append(Cost(f"password check, {algorithm}", timing.get("median_us"), detail))
    hop = micro.get("thread_hop") or {}
    for where in ("one CPU", "any CPU"):
        if isinstance(hop.get(where), dict):
            detail = "event loop to a thread and back (each sync_to_async under uvicorn)"
            costs.append(Cost(f"thread hop, process on {where}", hop[where]["median_us"], detail))
    columns = (micro.get("layers") or {}).get("columns") or {}
    totals = {case: column.get("total_us") for case, column in columns.items()}
    if None not in (totals.get(case) for case in ("floor", "round trip", "signed-in page")):
        costs.append(
            Cost(
                "storefront request: the session's round trip, beyond the floor",
                totals["round trip"] - totals["floor"],
                "fast path, session in Redis, through Django's WSGI handler in process",
            )
        )
        costs.append(
            Cost(
                "storefront request: the signed-in page, beyond the round trip",
                totals["signed-in page"] - totals["round trip"],
                "decoding the session, the sign-in rules, the user, private headers",
            )
        )
    return costs


def _scale(scale: dict) -> tuple[list[ScaleRow], str]:
    rows = []
    for store in ("redis", "database"):
        part = scale.get(store)
        if not isinstance(part, list):
            continue
        for level in part:
            lookup = level.get("lookup") or {}
            rows.append(
                ScaleRow(
                    store=store,
                    sessions=level.get("sessions", 0),
                    lookup_median_us=lookup.get("median_us"),
                    lookup_p99_us=lookup.get("p99_us"),
                    bytes_per_session=level.get("bytes_per_session"),
                    skipped=level.get("skipped", ""),
                )
            )
    tokens = scale.get("token_rows") or {}
    if not tokens:
        token_rows = MISSING
    elif not tokens.get("available"):
        token_rows = tokens.get("reason", "not measured")
    else:
        parts = [
            "one API sign-in adds "
            + ", ".join(f"{n} +{c}" for n, c in (tokens.get("after_sign_in") or {}).items())
        ]
        if tokens.get("after_two_refreshes"):
            parts.append(
                "two refreshes add "
                + ", ".join(f"{n} +{c}" for n, c in tokens["after_two_refreshes"].items())
            )
        token_rows = "; ".join(parts)
    return rows, token_rows


def summarize(data: dict) -> BenchSummary:
    """Return the summary of a parsed ``latest.json``."""
    header = data.get("header") or {}
    scale_rows, token_rows = _scale(data.get("scale") or {})
    return BenchSummary(
        date=_date(header.get("date")),
        machine=_machine(header),
        software=_software(header),
        setup=_setup(header),
        load=_load(header),
        commit=_commit(header),
        quick=bool((header.get("run") or {}).get("quick")),
        modes=_modes(data),
        micro=_micro(data.get("micro") or {}),
        scale=scale_rows,
        token_rows=token_rows,
        charts=list(data.get("charts") or []),
        targets=session_targets(data.get("modes") or []),
        revocation_lag=data.get("revocation_lag") or None,
        rtt=data.get("rtt") or None,
    )


def bench_summary(path: Path) -> BenchSummary | None:
    """Return the summary of the results file at ``path``, or None if there is none."""
    data = results_read(path)
    return summarize(data) if data else None


# Issue 17's targets for the session fast path, as ratios of req/s measured in one run:
# (what, the mode measured, the mode it is compared with, the ratio it must reach).
SESSION_TARGETS = (
    (
        "session fast path / its round trip alone",
        "session-cache-fast",
        "session-cache-round-trip-fast",
        0.95,
    ),
    (
        "session fast path / stock session in Redis",
        "session-cache-fast",
        "session-cache-stock",
        2.0,
    ),
    (
        "session from the process's copies / the storefront floor",
        "session-client-cache-fast",
        "floor-storefront",
        0.9,
    ),
)


def session_targets(entries: list[dict]) -> list[dict]:
    """Each target of SESSION_TARGETS with its measured ratio (None unless both ran)."""
    by_name = {entry["name"]: entry for entry in entries if entry.get("available")}
    found = []
    for what, name, other, target in SESSION_TARGETS:
        mode, base = by_name.get(name), by_name.get(other)
        ratio = mode["rps"] / base["rps"] if mode and base and base.get("rps") else None
        found.append(
            {
                "what": what,
                "mode": name,
                "compared_with": other,
                "target": target,
                "ratio": ratio,
                "met": None if ratio is None else ratio >= target,
            }
        )
    return found
