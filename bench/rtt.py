"""
The network hop, measured: the same modes with Redis and PostgreSQL behind a simulated
datacenter link (``bench.network``) at several round-trip times, under gunicorn's sync
workers and under enough threads to hide the wait.

For each mode and server configuration one server is started; the round trip is changed
under it (the open connections stay), and at each setting the mode is loaded as the other
rows are: wrk, the same connections, the median of the rounds. Every row is named
``rtt-<ms>ms-<mode>-<config>`` and carries the probed round trip it ran over, the app's
and the relay's CPU per request, and its req/s over the same mode's at no added delay
(``vs_no_delay``): where that ratio falls is where the shared store has become the
bottleneck.
"""

from pathlib import Path

from django.conf import settings

from . import cpu
from .credentials import Unavailable, check_endpoint, sign_in
from .loadgen import LoadError
from .modes import DEMO_CREDENTIALS
from .network import DelayedLink, unavailable
from .processes import ServerError, manage
from .server import GunicornServer
from .stats import median
from .transport import HttpTransport
from .under_load import mode_env

# Round trips added by the link, in ms: loopback-like, a datacenter, a slower hop.
RTTS_MS = (0.0, 0.25, 1.0)
# The modes measured over the link (names of bench.modes.all_modes()).
RTT_MODES = (
    "session-cache-stock",
    "session-cache-fast",
    "session-client-cache-fast",
    "jwt-db-hs256-stock",
    "jwt-stateless-hs256-stock",
)
THREADS = 8
CONFIGS = {
    "sync": ((), "gunicorn, {workers} sync workers"),
    "threads": (
        ("--worker-class=gthread", f"--threads={THREADS}"),
        "gunicorn, {workers} gthread workers × " + str(THREADS) + " threads",
    ),
}


def _cpu_us(before: float | None, after: float | None, requests: int) -> float | None:
    if before is None or after is None or not requests:
        return None
    return round((after - before) / requests * 1e6, 1)


def _description(config) -> dict:
    return {
        "rtts_ms": list(RTTS_MS),
        "configs": {
            name: label.format(workers=config.workers) for name, (_, label) in CONFIGS.items()
        },
        "link": (
            "a veth pair into a network namespace of the run's own; the delay made by "
            "bench.delay_relay (this kernel has no tc netem)"
        ),
    }


def unavailable_result(config, reason: str) -> dict:
    """The ``rtt`` part of the results when the rows could not be measured, and why."""
    return {**_description(config), "available": False, "reason": reason, "rows": []}


class NetworkHop:
    """One run of the network-hop rows: ``measure()`` returns the ``rtt`` part of the results."""

    def __init__(self, config, *, loadgen, logs_dir: Path, progress=None):
        self.config = config
        self.loadgen = loadgen
        self.logs_dir = logs_dir
        self.progress = progress

    def step(self, text: str) -> None:
        if self.progress is not None:
            self.progress.step(f"network hop: {text}")

    def measure(self, modes) -> dict:
        reason = unavailable()
        if reason:
            return unavailable_result(self.config, reason)
        base = _description(self.config)
        self.step("starting Redis and PostgreSQL in a namespace")
        with DelayedLink() as link:
            env = {"DATABASE_URL": link.database_url, "REDIS_URL": link.redis_url}
            prepared = {**mode_env(modes[0], keys_dir=None), **env}
            for command in (["migrate", "--noinput"], ["seed_demo"]):
                manage(*command, env=prepared, timeout=300, check=True)
            probed = {}
            for rtt in RTTS_MS:
                link.set_rtt(rtt)
                probed[rtt] = round(link.probe_rtt_ms(), 3)
            rows = []
            for mode in modes:
                for config in CONFIGS:
                    rows.extend(self.measure_mode(link, mode, config, env))
        for row in rows:
            row["probed_rtt_ms"] = probed.get(row["rtt_ms"])
        by_key = {(r["mode"], r["server"], r["rtt_ms"]): r for r in rows if r["available"]}
        for row in rows:
            at_zero = by_key.get((row["mode"], row["server"], 0.0))
            if row["available"] and at_zero and at_zero["rps"]:
                row["vs_no_delay"] = round(row["rps"] / at_zero["rps"], 3)
        return {**base, "available": True, "probed_rtt_ms": probed, "rows": rows}

    def measure_mode(self, link: DelayedLink, mode, config: str, env: dict) -> list[dict]:
        extra_args, _ = CONFIGS[config]
        entries = []

        def row(rtt: float) -> dict:
            return {
                "name": f"rtt-{rtt:g}ms-{mode.name}-{config}",
                "mode": mode.name,
                "family": mode.family,
                "variant": mode.variant,
                "label": mode.label,
                "server": config,
                "rtt_ms": rtt,
                "path": mode.path,
                "available": True,
            }

        self.step(f"{mode.name}, {config}: starting gunicorn")
        link.set_rtt(0)
        server = GunicornServer(
            env={**mode_env(mode, keys_dir=None), **env},
            workers=self.config.workers,
            log_path=self.logs_dir / f"rtt-{mode.name}-{config}.log",
            extra_args=extra_args,
        )
        try:
            with server:
                transport = HttpTransport(host=server.host, port=server.port)
                headers = sign_in(
                    transport,
                    mode,
                    **DEMO_CREDENTIALS,
                    session_cookie=settings.SESSION_COOKIE_NAME,
                )
                check_endpoint(
                    HttpTransport(host=server.host, port=server.port), mode.path, headers
                )
                self.load(server, link, mode.path, headers, self.config.warmup_s or 1)
                for rtt in RTTS_MS:
                    self.step(f"{mode.name}, {config}: {rtt:g} ms round trip")
                    link.set_rtt(rtt)
                    entry = row(rtt)
                    runs = [
                        self.load(server, link, mode.path, headers, self.config.duration_s)
                        for _ in range(self.config.rtt_rounds)
                    ]
                    entry.update(
                        rps=round(median(r["rps"] for r in runs), 1),
                        p50_ms=round(median(r["p50_ms"] for r in runs), 3),
                        p99_ms=round(median(r["p99_ms"] for r in runs), 3),
                        requests=sum(r["requests"] for r in runs),
                        not_ok=sum(r["not_ok"] for r in runs),
                        app_cpu_us=median_or_none(r["app_cpu_us"] for r in runs),
                        relay_cpu_us=median_or_none(r["relay_cpu_us"] for r in runs),
                    )
                    entries.append(entry)
                check_endpoint(
                    HttpTransport(host=server.host, port=server.port), mode.path, headers
                )
        except (ServerError, Unavailable, LoadError) as exc:
            done = {e["rtt_ms"] for e in entries}
            for rtt in RTTS_MS:
                if rtt not in done:
                    entries.append({**row(rtt), "available": False, "reason": str(exc)})
        return entries

    def load(self, server, link, path, headers, duration_s) -> dict:
        app_before = cpu.process_tree_cpu_s(server.process.pid)
        relay_before = cpu.process_tree_cpu_s(link.relay_pid)
        result = self.loadgen.run(
            host=server.host, port=server.port, path=path, headers=headers, duration_s=duration_s
        )
        requests = result.requests
        return {
            "rps": result.rps,
            "p50_ms": result.p50_ms,
            "p99_ms": result.p99_ms,
            "requests": requests,
            "not_ok": result.not_ok + result.socket_errors,
            "app_cpu_us": _cpu_us(app_before, cpu.process_tree_cpu_s(server.process.pid), requests),
            "relay_cpu_us": _cpu_us(relay_before, cpu.process_tree_cpu_s(link.relay_pid), requests),
        }


def median_or_none(values) -> float | None:
    known = [v for v in values if v is not None]
    return round(median(known), 1) if known else None


def format_rtt(rtt: dict | None) -> str:
    """The rows as the benchmark prints them (empty without them)."""
    if not rtt:
        return ""
    if not rtt.get("available"):
        return f"Network hop: not measured ({rtt.get('reason')})"
    probed = ", ".join(f"{k:g} ms → {v:.2f}" for k, v in rtt["probed_rtt_ms"].items())
    lines = [
        "Network hop: Redis and PostgreSQL behind a delayed link "
        f"(added round trip → probed Redis PING, ms: {probed})",
        *(f"  {name}: {label}" for name, label in rtt["configs"].items()),
        f"  {'row':<52} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'vs 0 ms':>7} "
        f"{'app us':>7} {'relay us':>8}",
    ]
    for row in rtt["rows"]:
        if not row["available"]:
            lines.append(f"  {row['name']:<52} unavailable: {row['reason']}")
            continue
        vs = row.get("vs_no_delay")
        lines.append(
            f"  {row['name']:<52} {row['rps']:>7.0f} {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} "
            f"{'-' if vs is None else f'{vs:.2f}':>7} {row['app_cpu_us'] or '-':>7} "
            f"{row['relay_cpu_us'] or '-':>8}"
        )
    return "\n".join(lines)
