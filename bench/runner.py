"""
The whole benchmark run: prepare the database, measure every mode beside its floor under
gunicorn (``under_load``), time the micro-costs and the scale in process (``in_process``),
write the results (``report``, ``charts``).
"""

import io
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connections

from . import charts, report, revocation_lag, rtt
from .credentials import Unavailable
from .in_process import InProcess, micro_weight, scale_weight
from .loadgen import WRK_INSTALL_HINT, LoadGenerator
from .modes import EDGES, all_modes, select_modes
from .processes import ROOT, ManageError, ServerError
from .run_config import RunConfig
from .server import BENCH_SETTINGS
from .under_load import UnderLoad, floor_weight, mode_env, mode_weight

CLIENT_CACHE_FAMILY = "session-client-cache"
# Trials of the revocation-lag measurement: a sign-in, reads and a sign-out each.
LAG_TRIALS = 100
LAG_TRIALS_QUICK = 20


def rtt_weight(config: RunConfig, modes: int) -> float:
    """Expected seconds of the network-hop rows (the progress bar's weight)."""
    per_server = 6.0 + len(rtt.RTTS_MS) * (0.3 + config.rtt_rounds * config.duration_s)
    return 15.0 + modes * len(rtt.CONFIGS) * per_server


def lag_weight(config: RunConfig) -> float:
    """Expected seconds of the revocation-lag measurement (the progress bar's weight)."""
    return 3.0 + 0.4 * (LAG_TRIALS_QUICK if config.quick else LAG_TRIALS)


class Runner:
    """One benchmark run: ``run()`` measures everything and writes the results."""

    def __init__(self, config: RunConfig, *, err=sys.stderr):
        self.config = config
        self.err = err
        self.loadgen = LoadGenerator(
            connections=config.connections,
            threads=config.threads,
            force_python=config.python_loadgen,
        )
        # Server logs are kept (ignored by git) so a mode that failed can be looked into.
        self.logs_dir = ROOT / "var" / "bench-logs"
        self.progress = None
        self._redis_client = None
        self._redis_checked = False

    # --- the run --------------------------------------------------------------------
    def modes(self):
        if self.config.floors_only:
            return []
        modes = all_modes(asymmetric_algorithm=self.config.asymmetric_algorithm)
        if self.config.quick and not self.config.mode_names:
            # A diagnostic splits another mode's cost; one 1-second round cannot resolve
            # that, and each mode costs the quick run a server start and a sign-in.
            modes = [mode for mode in modes if not mode.diagnostic]
        return select_modes(modes, self.config.mode_names)

    @staticmethod
    def edges(modes) -> list[str]:
        """The edges whose floor the run reports: those of the modes, or all of them."""
        wanted = {mode.edge for mode in modes}
        return [edge for edge in EDGES if edge in wanted or not wanted]

    def estimate(self, modes) -> float:
        """Expected seconds of the run, the weights of the progress bar."""
        c = self.config
        total = 3.0 + mode_weight(c) * len(modes)
        if not modes:
            total += len(EDGES) * floor_weight(c)
        if any(mode.family == CLIENT_CACHE_FAMILY for mode in modes):
            total += lag_weight(c)
        rtt_modes = self.rtt_modes()
        total += rtt_weight(c, len(rtt_modes)) if rtt_modes else 0.0
        if c.micro:
            total += micro_weight(c)
        if c.scale:
            total += scale_weight(c)
        return total

    def run(self) -> dict:
        from .progress import Progress

        # The in-process sign-ins try endpoints that may be absent; their 404s are
        # reported in the results, not logged as warnings in the middle of the progress bar.
        logging.getLogger("django.request").setLevel(logging.ERROR)
        modes = self.modes()
        if self.loadgen.tool != "wrk":
            self.err.write(
                f"wrk not found: {WRK_INSTALL_HINT}. Falling back to the Python load "
                "generator; its numbers are less accurate and labelled so.\n"
            )
        self.progress = Progress(
            self.estimate(modes), stream=self.err, enabled=self.config.progress
        )
        self.progress.step("preparing the database (migrate, seed_demo)")
        self.prepare()
        self.progress.advance(3.0)

        entries = []
        with tempfile.TemporaryDirectory(prefix="bench-keys-") as keys_dir:
            under_load = UnderLoad(
                self.config,
                loadgen=self.loadgen,
                progress=self.progress,
                redis_client=self.redis_client(),
                keys_dir=Path(keys_dir),
                logs_dir=self.logs_dir,
            )
            try:
                for mode in modes:
                    entries.append(under_load.measure_mode(mode))
                # An edge whose modes all failed still gets its floor, measured on its own.
                for edge in self.edges(modes):
                    if not under_load.floor_samples[edge]:
                        under_load.measure_floor_only(edge)
            finally:
                under_load.wait_stopped()
        floors = [under_load.floor_entry(edge) for edge in self.edges(modes)]
        floors_by_edge = {floor["edge"]: floor for floor in floors}
        for floor in floors:
            if floor["edge"].endswith("-asgi"):
                wsgi = floors_by_edge.get(floor["edge"].removesuffix("-asgi"))
                floor["vs_wsgi"] = report.asgi_over_wsgi(floor, wsgi)

        lag = self.measure_revocation_lag(modes, entries)
        network_hop = self.measure_network_hop()
        in_process = InProcess(self.config, progress=self.progress)
        micro_costs = (
            in_process.measure_micro(redis_available=self.redis_available())
            if self.config.micro
            else {}
        )
        scale_results = in_process.measure_scale() if self.config.scale else {}
        self.clean_up_redis()
        self.progress.finish()

        result = {
            "header": report.header(
                root=ROOT, settings_summary=self.settings_summary(), run=self.run_summary()
            ),
            "modes": floors + report.compare_variants(entries),
            "micro": micro_costs,
            "scale": scale_results,
        }
        if lag is not None:
            result["revocation_lag"] = lag
        if network_hop is not None:
            result["rtt"] = network_hop
        self.write_outputs(result)
        return result

    def measure_revocation_lag(self, modes, entries) -> dict | None:
        """SESSION_CLIENT_CACHE's revocation lag, when its mode ran (and was available)."""
        ran = {e["name"] for e in entries if e.get("available")}
        mode = next((m for m in modes if m.family == CLIENT_CACHE_FAMILY), None)
        if mode is None or mode.name not in ran:
            return None
        trials = LAG_TRIALS_QUICK if self.config.quick else LAG_TRIALS
        self.progress.step("revocation lag: starting servers")
        try:
            return revocation_lag.measure(
                env=mode_env(mode, keys_dir=None),
                workers=self.config.workers,
                trials=trials,
                logs_dir=self.logs_dir,
                progress=self.progress,
            )
        except (ServerError, Unavailable, OSError) as exc:
            # Reported, not raised: the run's other results must still be written.
            return {
                "name": "session-client-cache-revocation-lag",
                "label": "revocation lag, SESSION_CLIENT_CACHE=1",
                "error": str(exc),
            }
        finally:
            self.progress.advance(lag_weight(self.config))

    def rtt_modes(self):
        """The modes of the network-hop rows: asked for, or the default set on a full run."""
        c = self.config
        if not c.rtt or (not c.rtt_mode_names and (c.mode_names or c.floors_only)):
            return []
        every = all_modes(asymmetric_algorithm=c.asymmetric_algorithm)
        return select_modes(every, c.rtt_mode_names or list(rtt.RTT_MODES))

    def measure_network_hop(self) -> dict | None:
        modes = self.rtt_modes()
        if not modes:
            return None
        hop = rtt.NetworkHop(
            self.config, loadgen=self.loadgen, logs_dir=self.logs_dir, progress=self.progress
        )
        try:
            return hop.measure(modes)
        except (RuntimeError, OSError, subprocess.SubprocessError, ManageError) as exc:
            # The link or its servers could not be made (a namespace refused, PostgreSQL
            # failing to start): reported, not raised, so the run's other results are kept.
            return rtt.unavailable_result(self.config, f"{type(exc).__name__}: {exc}")
        finally:
            self.progress.advance(rtt_weight(self.config, len(modes)))

    # --- preparation ----------------------------------------------------------------
    def prepare(self) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", verbosity=0, stdout=io.StringIO())
        connections.close_all()

    def redis_available(self) -> bool:
        url = settings.REDIS_URL
        if not url:
            return False
        import redis

        try:
            return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def redis_client(self):
        """A client of REDIS_URL (the server's CPU, the clean-up), or None without Redis."""
        if not self._redis_checked:
            self._redis_checked = True
            if self.redis_available():
                import redis

                self._redis_client = redis.Redis.from_url(
                    settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2
                )
        return self._redis_client

    def clean_up_redis(self) -> None:
        """Delete the keys this run's servers left in REDIS_URL (all under ``bench:``)."""
        client = self.redis_client()
        if client is None:
            return
        # Only ever the bench settings' own prefix, whatever the cache is configured with.
        if settings.CACHES["default"].get("KEY_PREFIX") != settings.BENCH_CACHE_KEY_PREFIX:
            return
        batch = []
        for key in client.scan_iter(match=f"{settings.BENCH_CACHE_KEY_PREFIX}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)

    # --- outputs --------------------------------------------------------------------
    def settings_summary(self) -> dict:
        database = settings.DATABASES["default"]
        redis_url = settings.REDIS_URL
        return {
            "module": os.environ.get("DJANGO_SETTINGS_MODULE", BENCH_SETTINGS),
            "debug": settings.DEBUG,
            "database": connections["default"].vendor,
            "conn_max_age": database.get("CONN_MAX_AGE", 0),
            "conn_health_checks": database.get("CONN_HEALTH_CHECKS", False),
            "redis": redis_url.split("@")[-1] if redis_url else None,
            "cache_key_prefix": settings.CACHES["default"].get("KEY_PREFIX"),
            "password_hasher": settings.PASSWORD_HASHERS[0].rsplit(".", 1)[-1],
        }

    def run_summary(self) -> dict:
        c = self.config
        return {
            "quick": c.quick,
            "loadgen": self.loadgen.label,
            "connections": c.connections,
            "threads": c.threads,
            "server": f"gunicorn, {c.workers} sync workers, 127.0.0.1",
            "asgi_server": (
                f"uvicorn, {c.workers} workers (uvloop, httptools)"
                f"{', one CPU each' if c.pin_asgi_workers else ''}, 127.0.0.1"
            ),
            "pin_asgi_workers": c.pin_asgi_workers,
            "workers": c.workers,
            "duration_s": c.duration_s,
            "rounds": c.rounds,
            "warmup_s": c.warmup_s,
            "asymmetric_algorithm": c.asymmetric_algorithm,
            "count_requests": c.count_requests,
            "scale_sizes": list(c.scale_sizes),
        }

    def write_outputs(self, result: dict) -> None:
        out = self.config.output_dir
        out.mkdir(parents=True, exist_ok=True)
        header = result["header"]
        subtitle = (
            f"{header['date']} · {header['machine']['cores']} cores · "
            f"{header['run']['server']} · {self.loadgen.tool} -t{self.config.threads} "
            f"-c{self.config.connections} · {self.config.rounds} round(s) of "
            f"{self.config.duration_s} s"
        )
        mode_entries = [e for e in result["modes"] if e["kind"] == "mode"]
        (out / "ratio.svg").write_text(charts.ratio_chart(mode_entries, subtitle=subtitle))
        (out / "latency.svg").write_text(charts.latency_chart(result["modes"], subtitle=subtitle))
        result["charts"] = ["ratio.svg", "latency.svg"]
        report.write_json(out / "latest.json", result)
