"""
What one benchmark run measures and for how long: ``RunConfig``, with the full preset
(``make bench``) and the quick one (``make bench-quick``).
"""

from dataclasses import dataclass, field
from pathlib import Path

from .processes import ROOT

RESULTS_DIR = ROOT / "bench" / "results"


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
    # Each uvicorn worker on a CPU of its own (bench.server.UvicornServer); gunicorn's
    # sync workers are left to the scheduler, having no threads to hand work to.
    pin_asgi_workers: bool = True
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
    # The network-hop rows (bench.rtt): which modes, and rounds per round trip.
    rtt: bool = True
    rtt_mode_names: list[str] = field(default_factory=list)
    rtt_rounds: int = 2

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
            "rtt_rounds": 1,
        }
        return cls(**{**values, **overrides})
