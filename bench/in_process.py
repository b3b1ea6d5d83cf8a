"""
The measurements in this process, without a server: the micro-costs (JWT sign and verify,
session load, password check) and the scale (session lookups as the store fills, token
rows per sign-in).
"""

from django.core.handlers.wsgi import WSGIHandler
from django.db import connections

from . import layers, micro, scale
from .modes import DEMO_CREDENTIALS
from .run_config import RunConfig
from .transport import WsgiTransport


def micro_weight(config: RunConfig) -> float:
    """Expected seconds of the micro-costs."""
    return 5.0 if config.quick else 20.0


def redis_scale_weight(config: RunConfig) -> float:
    return max(config.scale_sizes) / 40_000  # ~25 s for 10^6 sessions here


def db_scale_weight(config: RunConfig) -> float:
    return max(config.scale_sizes) / 30_000  # ~33 s for 10^6 rows, delete included


def scale_weight(config: RunConfig) -> float:
    """Expected seconds of the scale measurements."""
    return redis_scale_weight(config) + db_scale_weight(config) + 3.0


class InProcess:
    """The in-process measurements of one run, sharing one real session's contents."""

    def __init__(self, config: RunConfig, *, progress):
        self.config = config
        self.progress = progress
        self._session_data: tuple[dict, str] | None = None

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

    def measure_micro(self, *, redis_available: bool) -> dict:
        c = self.config
        budget = 0.05 if c.quick else 0.5
        self.progress.step("micro-costs: JWT sign and verify")
        costs = {"jwt": micro.jwt_costs(budget_s=budget)}
        self.progress.step("micro-costs: session load, password hash")
        data, _ = self.session_data()
        costs["session_load"] = micro.session_load_costs(
            session_data=data, budget_s=budget, redis_available=redis_available
        )
        costs["password_check"] = micro.password_costs(repeats=1 if c.quick else 3)
        costs["thread_hop"] = micro.thread_hop_costs(hops=500 if c.quick else 5000)
        if redis_available:
            self.progress.step("micro-costs: a storefront request, layer by layer")
            costs["layers"] = layers.layer_costs(
                requests=300 if c.quick else 2000, rounds=2 if c.quick else 5
            )
        connections.close_all()
        self.progress.advance(micro_weight(c))
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
        self.progress.advance(redis_scale_weight(c))
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
        self.progress.advance(db_scale_weight(c))
        self.progress.step("scale: token-table rows per API sign-in")
        results["token_rows"] = scale.token_rows_per_sign_in(
            WsgiTransport(WSGIHandler()), **DEMO_CREDENTIALS
        )
        connections.close_all()
        self.progress.advance(3.0)
        return results
