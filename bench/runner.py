"""
The whole benchmark run: prepare the database, measure every mode beside its floor under
gunicorn, count calls in its workers, time the micro-costs and the scale, write the results.

Per mode: one gunicorn (same command, same worker count; only the mode's environment
differs), a sign-in over HTTP as a real client, a warm-up, a few requests whose queries
and Redis round trips the workers count, then ``rounds`` rounds of the floor and the
mode back to back, the order alternating between rounds so that neither
always runs on a warmer or cooler machine. The mode's ratio is the median of the
per-round ratios; the spread of the rounds is reported beside it.
"""

import io
import logging
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import connections

from . import charts, cpu, micro, report, scale
from .credentials import Unavailable, check_endpoint, sign_in
from .loadgen import WRK_INSTALL_HINT, LoadError, LoadGenerator, LoadResult
from .modes import DEMO_CREDENTIALS, EDGES, all_modes, select_modes
from .processes import ROOT, ServerError
from .server import BENCH_SETTINGS, CountError, GunicornServer
from .stats import Round, median, median_cpu, summarize
from .transport import HttpTransport, WsgiTransport

RESULTS_DIR = ROOT / "bench" / "results"
# The variables that define a mode; any value of them in the caller's environment is
# dropped first, so one mode's setting cannot leak into another.
MODE_VARIABLES = (
    "SESSION_BACKEND",
    "JWT_USER_LOOKUP",
    "JWT_ACCESS_DENYLIST",
    "JWT_ALGORITHM",
    "JWT_PRIVATE_KEY_FILE",
    "JWT_PUBLIC_KEY_FILE",
)
# A mode whose responses are more often than this not a 200 is not measured (its req/s
# would count errors as work); below it, the count is reported as a note.
MAX_NOT_OK_FRACTION = 0.001


@dataclass
class RunConfig:
    """What to run and how long; ``full()`` and ``quick_preset()`` are the two presets."""

    quick: bool = False
    # Rounds rather than length: on a shared 2-vCPU machine one mode's ratio moves by 0.2
    # from one round to the next, and a median of 5 rounds of 3 s is steadier than one of
    # 3 rounds of 5 s for the same time under load.
    duration_s: int = 3
    rounds: int = 5
    warmup_s: int = 1
    connections: int = 8
    threads: int = 2
    workers: int = 2
    mode_names: list[str] = field(default_factory=list)
    floors_only: bool = False
    asymmetric_algorithm: str = "RS256"
    output_dir: Path = RESULTS_DIR
    micro: bool = True
    scale: bool = True
    scale_sizes: tuple[int, ...] = (10**4, 10**5, 10**6)
    scale_redis_url: str = ""
    flush_scale_db: bool = False
    scale_lookups: int = 1000
    db_scale_budget_s: float = 90.0
    count_requests: int = 20
    python_loadgen: bool = False
    progress: bool = True

    @classmethod
    def full(cls, **overrides) -> "RunConfig":
        return cls(**overrides)

    @classmethod
    def quick_preset(cls, **overrides) -> "RunConfig":
        values = {
            "quick": True,
            "duration_s": 1,
            "rounds": 1,
            "warmup_s": 0,
            "scale_sizes": (10**4,),
            "scale_lookups": 200,
            "db_scale_budget_s": 10.0,
            "count_requests": 10,
        }
        return cls(**{**values, **overrides})


def unavailable(entry: dict, reason: str) -> dict:
    entry.update(available=False, reason=reason)
    return entry


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
        self.floor_samples: dict[str, list[LoadResult]] = {edge: [] for edge in EDGES}
        self.floor_counts: dict[str, list[dict]] = {edge: [] for edge in EDGES}
        self.floor_errors: dict[str, str] = {}
        self.stopping: list[GunicornServer] = []
        self.keys_dir: Path | None = None
        self._session_data: tuple[dict, str] | None = None
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

    def mode_weight(self) -> float:
        """Expected seconds of one mode under load: start and sign-in, warm-up, rounds."""
        c = self.config
        return 3.0 + 2 * c.warmup_s + c.rounds * 2 * (c.duration_s + 0.3)

    def floor_weight(self) -> float:
        c = self.config
        return 1.5 + c.rounds * (c.duration_s + 0.3)

    def redis_scale_weight(self) -> float:
        return max(self.config.scale_sizes) / 40_000  # ~25 s for 10^6 sessions here

    def db_scale_weight(self) -> float:
        return max(self.config.scale_sizes) / 30_000  # ~33 s for 10^6 rows, delete included

    def estimate(self, modes) -> float:
        """Expected seconds of the run, the weights of the progress bar."""
        c = self.config
        total = 3.0 + self.mode_weight() * len(modes)
        if not modes:
            total += len(EDGES) * self.floor_weight()
        if c.micro:
            total += 4.0 if c.quick else 12.0
        if c.scale:
            total += self.redis_scale_weight() + self.db_scale_weight() + 3.0
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
            self.keys_dir = Path(keys_dir)
            try:
                for mode in modes:
                    entries.append(self.measure_mode(mode))
                # An edge whose modes all failed still gets its floor, measured on its own.
                for edge in self.edges(modes):
                    if not self.floor_samples[edge]:
                        self.measure_floor_only(edge)
            finally:
                self.wait_stopped()
        floors = [self.floor_entry(edge) for edge in self.edges(modes)]

        micro_costs = self.measure_micro() if self.config.micro else {}
        scale_results = self.measure_scale() if self.config.scale else {}
        self.clean_up_redis()
        self.progress.finish()

        result = {
            "header": report.header(
                root=ROOT, settings_summary=self.settings_summary(), run=self.run_summary()
            ),
            "modes": floors + entries,
            "micro": micro_costs,
            "scale": scale_results,
        }
        self.write_outputs(result)
        return result

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

    def key_files(self, algorithm: str) -> dict[str, str]:
        """Write a throwaway key pair for ``algorithm`` (once) and return its env variables."""
        private_path = self.keys_dir / f"{algorithm}.private.pem"
        public_path = self.keys_dir / f"{algorithm}.public.pem"
        if not private_path.exists():
            private, public = micro.generate_key_pair(algorithm)
            private_path.write_text(private)
            private_path.chmod(0o600)
            public_path.write_text(public)
        return {"JWT_PRIVATE_KEY_FILE": str(private_path), "JWT_PUBLIC_KEY_FILE": str(public_path)}

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in MODE_VARIABLES}
        env["DJANGO_SETTINGS_MODULE"] = BENCH_SETTINGS
        return env

    def mode_env(self, mode) -> dict[str, str]:
        env = {**self.base_env(), **mode.env}
        if mode.jwt_algorithm and mode.jwt_algorithm != "HS256":
            env.update(self.key_files(mode.jwt_algorithm))
        return env

    # --- measuring under load -------------------------------------------------------
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

    def load(self, server, path: str, headers=None, *, duration_s=None) -> LoadResult:
        meter = cpu.CpuMeter(server_pid=server.process.pid, redis_client=self.redis_client())
        before = meter.read()
        result = self.loadgen.run(
            host=server.host,
            port=server.port,
            path=path,
            headers=headers,
            duration_s=duration_s or self.config.duration_s,
        )
        result.server_cpu = cpu.per_request(before, meter.read(), result.requests)
        if result.not_ok > MAX_NOT_OK_FRACTION * max(result.requests, 1):
            raise Unavailable(
                f"{result.not_ok} of {result.requests} responses to {path} were not 200 "
                f"under load (e.g. {result.bad_status})"
            )
        return result

    def warm_up(self, server, paths: list[tuple[str, dict | None]]) -> None:
        """
        Let every worker import lazily loaded code and open its connections: a short
        load, or (quick runs) a few concurrent requests, which reach both workers.
        """
        for path, headers in paths:
            if self.config.warmup_s > 0:
                self.load(server, path, headers, duration_s=self.config.warmup_s)
                continue
            transport = HttpTransport(host=server.host, port=server.port)
            with ThreadPoolExecutor(max_workers=4) as pool:
                pending = [
                    pool.submit(transport.request, "GET", path, headers=headers) for _ in range(24)
                ]
            if any(future.result().status != 200 for future in pending):
                raise Unavailable(f"GET {path} did not answer 200 while warming up")

    def server(self, env: dict[str, str], name: str) -> GunicornServer:
        """A server that is only signalled to stop on leaving ``with``; see ``wait_stopped``."""
        server = GunicornServer(
            env=env, workers=self.config.workers, log_path=self.logs_dir / f"{name}.log"
        )
        server.wait_on_exit = False
        self.stopping.append(server)
        return server

    def wait_stopped(self, *, keep: GunicornServer | None = None) -> None:
        """
        Wait until every previous server has exited. Their shutdown overlaps the next
        server's start, but never a measurement.
        """
        for server in [s for s in self.stopping if s is not keep]:
            server.stop(wait=True)
            self.stopping.remove(server)

    def base_entry(self, mode) -> dict:
        return {
            "name": mode.name,
            "label": mode.label,
            "kind": "mode",
            "edge": mode.edge,
            "path": mode.path,
            "floor_path": mode.floor.floor_path,
            "env": mode.env,
            "available": True,
            "target": mode.target,
            "loadgen": self.loadgen.tool,
            "notes": [],
        }

    def measure_mode(self, mode) -> dict:
        c = self.config
        entry = self.base_entry(mode)
        self.progress.step(f"{mode.name}: starting gunicorn")
        done_after = self.progress.done + self.mode_weight()
        if mode.needs_redis and not self.redis_available():
            self.progress.advance_to(done_after)
            return unavailable(entry, "needs Redis: set REDIS_URL to a reachable server")
        env = self.mode_env(mode)
        floor_path = mode.floor.floor_path
        rounds: list[Round] = []
        floor_results: list[LoadResult] = []
        mode_results: list[LoadResult] = []
        per_load = c.duration_s + 0.3
        try:
            with self.server(env, mode.name) as server:
                transport = HttpTransport(host=server.host, port=server.port)
                check_endpoint(transport, floor_path)
                headers = sign_in(
                    transport,
                    mode,
                    **DEMO_CREDENTIALS,
                    session_cookie=settings.SESSION_COOKIE_NAME,
                )
                check_endpoint(transport, mode.path, headers)
                self.progress.advance(3.0)
                self.progress.step(f"{mode.name}: warming up")
                self.wait_stopped(keep=server)
                self.warm_up(server, [(floor_path, None), (mode.path, headers)])
                self.progress.step(f"{mode.name}: counting queries and Redis calls")
                self.add_counts(entry, mode, server, headers)
                self.progress.advance(2 * c.warmup_s)
                for index in range(c.rounds):
                    order = ["floor", "mode"] if index % 2 == 0 else ["mode", "floor"]
                    measured = {}
                    for which in order:
                        self.progress.step(f"{mode.name}: round {index + 1}/{c.rounds}, {which}")
                        if which == "floor":
                            measured[which] = self.load(server, floor_path)
                        else:
                            measured[which] = self.load(server, mode.path, headers)
                        self.progress.advance(per_load)
                    floor, measured_mode = measured["floor"], measured["mode"]
                    rounds.append(
                        Round(
                            rps=measured_mode.rps,
                            p50_ms=measured_mode.p50_ms,
                            p99_ms=measured_mode.p99_ms,
                            floor_rps=floor.rps,
                            floor_p50_ms=floor.p50_ms,
                            floor_p99_ms=floor.p99_ms,
                            cpu=measured_mode.server_cpu,
                            floor_cpu=floor.server_cpu,
                        )
                    )
                    floor_results.append(floor)
                    mode_results.append(measured_mode)
                    for result in (floor, measured_mode):
                        if result.not_ok or result.socket_errors:
                            entry["notes"].append(
                                f"round {index + 1}: {result.not_ok} responses not 200, "
                                f"{result.socket_errors} socket errors"
                            )
                # The credential must still work after the load (a redirect to the login
                # page, which wrk would time as a success, is caught per response too).
                check_endpoint(transport, mode.path, headers)
        except ServerError as exc:
            unavailable(entry, f"server did not start: {exc}")
        except Unavailable as exc:
            unavailable(entry, str(exc))
        except LoadError as exc:
            unavailable(entry, f"load generator failed: {exc}")
        self.progress.advance_to(done_after)
        if not entry["available"]:
            return entry

        self.floor_samples[mode.edge].extend(floor_results)
        entry.update(summarize(rounds))
        entry["rounds"] = [{**asdict(r), "ratio": r.ratio} for r in rounds]
        entry["requests"] = sum(r.requests for r in mode_results)
        if entry["target"] is not None and entry["ratio"] is not None:
            entry["meets_target"] = entry["ratio"] >= entry["target"]
        return entry

    def measure_floor_only(self, edge_name: str) -> None:
        """Measure an edge's floor on a server of the default settings (no mode to pair)."""
        edge = EDGES[edge_name]
        self.progress.step(f"{edge.floor_label}: floor only")
        done_after = self.progress.done + self.floor_weight()
        env = self.base_env()
        try:
            with self.server(env, f"floor-{edge_name}") as server:
                check_endpoint(HttpTransport(host=server.host, port=server.port), edge.floor_path)
                self.wait_stopped(keep=server)
                self.warm_up(server, [(edge.floor_path, None)])
                self.add_floor_counts(edge_name, server)
                for _ in range(self.config.rounds):
                    self.floor_samples[edge_name].append(self.load(server, edge.floor_path))
                    self.progress.advance(self.config.duration_s + 0.3)
        except (ServerError, Unavailable, LoadError) as exc:
            self.floor_errors[edge_name] = str(exc).splitlines()[0]
        finally:
            self.progress.advance_to(done_after)

    def floor_entry(self, edge_name: str) -> dict:
        edge = EDGES[edge_name]
        entry = {
            "name": f"floor-{edge_name}",
            "label": edge.floor_label,
            "kind": "floor",
            "edge": edge_name,
            "path": edge.floor_path,
            "available": True,
            "target": None,
            "loadgen": self.loadgen.tool,
            "notes": [],
        }
        samples = self.floor_samples[edge_name]
        if not samples:
            reason = self.floor_errors.get(edge_name, "not measured")
            return unavailable(entry, reason)
        entry.update(
            rps=median(s.rps for s in samples),
            ratio=1.0,
            p50_ms=median(s.p50_ms for s in samples),
            p99_ms=median(s.p99_ms for s in samples),
            cpu_us=median_cpu(s.server_cpu for s in samples),
            spread={
                "rps_min": min(s.rps for s in samples),
                "rps_max": max(s.rps for s in samples),
                "ratio_min": None,
                "ratio_max": None,
            },
            samples=len(samples),
        )
        counts = self.floor_counts[edge_name]
        if counts:
            entry["queries"] = median(c["queries"] for c in counts)
            entry["redis_calls"] = median(c["redis_calls"] for c in counts)
        return entry

    # --- in-process counts ----------------------------------------------------------
    def add_floor_counts(self, edge_name: str, server: GunicornServer) -> None:
        try:
            counts = server.count(EDGES[edge_name].floor_path, None, self.config.count_requests)
        except CountError:
            return  # the floor's own load run reports what is wrong with it
        self.floor_counts[edge_name].append(counts)

    def add_counts(self, entry: dict, mode, server: GunicornServer, headers) -> None:
        """
        Count queries and Redis round trips per request, in the server's own workers
        (bench.gunicorn_conf), for the floor and the mode; note any contradiction of the
        mode's fast-path claim.
        """
        self.add_floor_counts(mode.edge, server)
        try:
            counts = server.count(mode.path, headers, self.config.count_requests)
        except CountError as exc:
            entry["notes"].append(f"calls not counted: {exc}")
            return
        entry["queries"] = counts["queries"]
        entry["redis_calls"] = counts["redis_calls"]
        entry["counts"] = counts
        for what, expected in (
            ("queries", mode.expect_queries),
            ("redis_calls", mode.expect_redis_calls),
        ):
            if expected is not None and entry[what] != expected:
                entry["notes"].append(
                    f"the fast path expects {expected} {what.replace('_', ' ')} per "
                    f"request; measured {entry[what]:g}"
                )

    # --- micro-costs and scale ------------------------------------------------------
    def session_data(self) -> tuple[dict, str]:
        """The contents of a real storefront session, or a minimal one if there is none."""
        if self._session_data is None:
            transport = WsgiTransport(WSGIHandler())
            data = scale.session_data_of_a_real_sign_in(transport, **DEMO_CREDENTIALS)
            if data:
                self._session_data = data, "a real storefront sign-in"
            else:
                self._session_data = (
                    scale.minimal_session_data(),
                    "a minimal auth session (storefront not present)",
                )
        return self._session_data

    def measure_micro(self) -> dict:
        c = self.config
        budget = 0.05 if c.quick else 0.5
        self.progress.step("micro-costs: JWT sign and verify")
        costs = {"jwt": micro.jwt_costs(budget_s=budget)}
        self.progress.step("micro-costs: session load, password hash")
        data, _ = self.session_data()
        costs["session_load"] = micro.session_load_costs(
            session_data=data, budget_s=budget, redis_available=self.redis_available()
        )
        costs["password_check"] = micro.password_costs(repeats=1 if c.quick else 3)
        connections.close_all()
        self.progress.advance(4.0 if c.quick else 12.0)
        return costs

    def measure_scale(self) -> dict:
        c = self.config
        data, source = self.session_data()
        results: dict = {"session_data": source, "session_data_keys": sorted(data)}
        self.progress.step(f"scale: Redis sessions ({', '.join(f'{s:,}' for s in c.scale_sizes)})")
        if not c.scale_redis_url:
            results["redis"] = (
                "skipped: set BENCH_SCALE_REDIS_URL (or --scale-redis-url) to a Redis "
                "database of its own; it is emptied before and after"
            )
        else:
            try:
                results["redis"] = scale.redis_sessions(
                    url=c.scale_redis_url,
                    sizes=list(c.scale_sizes),
                    session_data=data,
                    samples=c.scale_lookups,
                    flush=c.flush_scale_db,
                    progress=self.progress,
                )
            except scale.ScaleUnavailable as exc:
                results["redis"] = f"skipped: {exc}"
        self.progress.advance(self.redis_scale_weight())
        self.progress.step("scale: database sessions")
        try:
            results["database"] = scale.db_sessions_scale(
                sizes=list(c.scale_sizes),
                session_data=data,
                samples=c.scale_lookups,
                budget_s=c.db_scale_budget_s,
                progress=self.progress,
            )
        except scale.ScaleUnavailable as exc:
            results["database"] = f"skipped: {exc}"
        self.progress.advance(self.db_scale_weight())
        self.progress.step("scale: token-table rows per API sign-in")
        results["token_rows"] = scale.token_rows_per_sign_in(
            WsgiTransport(WSGIHandler()), **DEMO_CREDENTIALS
        )
        connections.close_all()
        self.progress.advance(3.0)
        return results

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
