"""
Every mode under load beside its floor, one gunicorn per mode.

Per mode: one gunicorn (same command, same worker count; only the mode's environment
differs), a sign-in over HTTP as a real client, a warm-up, a few requests whose queries
and Redis round trips the workers count, then ``rounds`` rounds of the floor and the
mode back to back, the order alternating between rounds so that neither
always runs on a warmer or cooler machine. The mode's ratio is the median of the
per-round ratios; the spread of the rounds is reported beside it. An edge's floor is
reported over the samples of all its modes.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from django.conf import settings

from . import cpu, micro
from .credentials import Unavailable, check_endpoint, sign_in
from .loadgen import LoadError, LoadGenerator, LoadResult
from .modes import DEMO_CREDENTIALS, EDGES
from .processes import ServerError
from .run_config import RunConfig
from .server import BENCH_SETTINGS, SERVERS, CountError, GunicornServer
from .stats import Round, median, median_cpu, summarize
from .transport import HttpTransport

# The variables that define a mode; any value of them in the caller's environment is
# dropped first, so one mode's setting cannot leak into another.
MODE_VARIABLES = (
    "AUTH_FAST_PATH",
    "SESSION_BACKEND",
    "JWT_USER_LOOKUP",
    "JWT_ACCESS_DENYLIST",
    "JWT_ALGORITHM",
    "JWT_PRIVATE_KEY_FILE",
    "JWT_PUBLIC_KEY_FILE",
    "SESSION_CLIENT_CACHE",
)
# A mode whose responses are more often than this not a 200 is not measured (its req/s
# would count errors as work); below it, the count is reported as a note.
MAX_NOT_OK_FRACTION = 0.001


def unavailable(entry: dict, reason: str) -> dict:
    entry.update(available=False, reason=reason)
    return entry


def mode_weight(config: RunConfig) -> float:
    """Expected seconds of one mode under load: start and sign-in, warm-up, rounds."""
    return 3.0 + 2 * config.warmup_s + config.rounds * 2 * (config.duration_s + 0.3)


def floor_weight(config: RunConfig) -> float:
    return 1.5 + config.rounds * (config.duration_s + 0.3)


def key_files(algorithm: str, *, keys_dir: Path) -> dict[str, str]:
    """Write a throwaway key pair for ``algorithm`` (once) and return its env variables."""
    private_path = keys_dir / f"{algorithm}.private.pem"
    public_path = keys_dir / f"{algorithm}.public.pem"
    if not private_path.exists():
        private, public = micro.generate_key_pair(algorithm)
        private_path.write_text(private)
        private_path.chmod(0o600)
        public_path.write_text(public)
    return {"JWT_PRIVATE_KEY_FILE": str(private_path), "JWT_PUBLIC_KEY_FILE": str(public_path)}


def base_env() -> dict[str, str]:
    """This process's environment without any mode's variables, under the bench settings."""
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = BENCH_SETTINGS
    return env


def mode_env(mode, *, keys_dir: Path | None) -> dict[str, str]:
    """The environment of ``mode``'s server (asymmetric keys written to ``keys_dir``)."""
    env = {**base_env(), **mode.env}
    if mode.jwt_algorithm and mode.jwt_algorithm != "HS256":
        env.update(key_files(mode.jwt_algorithm, keys_dir=keys_dir))
    return env


class UnderLoad:
    """The measurements under load of one run: ``measure_mode`` per mode, then the floors."""

    def __init__(
        self,
        config: RunConfig,
        *,
        loadgen: LoadGenerator,
        progress,
        redis_client,
        keys_dir: Path,
        logs_dir: Path,
    ):
        self.config = config
        self.loadgen = loadgen
        self.progress = progress
        # A client of REDIS_URL (the server's CPU), or None without a reachable Redis.
        self.redis_client = redis_client
        self.keys_dir = keys_dir
        self.logs_dir = logs_dir
        self.floor_samples: dict[str, list[LoadResult]] = {edge: [] for edge in EDGES}
        self.floor_counts: dict[str, list[dict]] = {edge: [] for edge in EDGES}
        self.floor_errors: dict[str, str] = {}
        self.stopping: list[GunicornServer] = []

    def load(self, server, path: str, headers=None, *, duration_s=None) -> LoadResult:
        meter = cpu.CpuMeter(server_pid=server.process.pid, redis_client=self.redis_client)
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

    def server(self, env: dict[str, str], name: str, kind: str = "gunicorn") -> GunicornServer:
        """A server that is only signalled to stop on leaving ``with``; see ``wait_stopped``."""
        options = {"pin_workers": self.config.pin_asgi_workers} if kind == "uvicorn" else {}
        server = SERVERS[kind](
            env=env, workers=self.config.workers, log_path=self.logs_dir / f"{name}.log", **options
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
            "family": mode.family,
            "variant": mode.variant,
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
        self.progress.step(f"{mode.name}: starting {mode.server}")
        done_after = self.progress.done + mode_weight(self.config)
        if mode.needs_redis and self.redis_client is None:
            self.progress.advance_to(done_after)
            return unavailable(entry, "needs Redis: set REDIS_URL to a reachable server")
        env = mode_env(mode, keys_dir=self.keys_dir)
        floor_path = mode.floor.floor_path
        rounds: list[Round] = []
        floor_results: list[LoadResult] = []
        mode_results: list[LoadResult] = []
        per_load = c.duration_s + 0.3
        try:
            with self.server(env, mode.name, mode.server) as server:
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
        done_after = self.progress.done + floor_weight(self.config)
        env = base_env()
        try:
            with self.server(env, f"floor-{edge_name}", edge.server) as server:
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
        # Not counted (None) under uvicorn: the counts are gunicorn's request hooks.
        entry["queries"] = median(c["queries"] for c in counts) if counts else None
        entry["redis_calls"] = median(c["redis_calls"] for c in counts) if counts else None
        return entry

    # --- in-process counts ----------------------------------------------------------
    def add_floor_counts(self, edge_name: str, server: GunicornServer) -> None:
        if EDGES[edge_name].server != "gunicorn":
            return  # counted by gunicorn's request hooks only (bench.gunicorn_conf)
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
        if mode.server != "gunicorn":
            return
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
