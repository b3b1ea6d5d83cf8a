"""
Numbers from repeated measurements: medians, nearest-rank percentiles, ratios to the floor.

A mode's ratio is the median of per-round ratios, each round comparing the mode with the
floor measured right beside it on the same server, so slow drift of the machine (other
processes, thermal state) cancels within a round instead of biasing the result.
"""

import math
import statistics
from dataclasses import dataclass

from .cpu import sides


def median(values) -> float:
    """Return the median of a non-empty sequence of numbers."""
    values = list(values)
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def percentile(values, p: float) -> float:
    """Return the nearest-rank ``p``-th percentile (0 < p <= 100) of a non-empty sequence."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    rank = math.ceil(p / 100 * len(ordered))
    return float(ordered[rank - 1])


def ratio(value: float, floor: float) -> float | None:
    """Return ``value / floor``, or None when there is no floor to compare with."""
    if not floor or floor <= 0:
        return None
    return value / floor


def median_cpu(readings) -> dict[str, float | None] | None:
    """
    The per-side medians of CPU readings per request (``bench.cpu.per_request`` dicts) as
    ``app_us`` and ``redis_us``, and their sum as ``total_us`` (so that the three add up
    as a reader expects); a side no reading measured is None, and None is returned when
    there is no reading at all.
    """
    readings = [r for r in readings if r]
    if not readings:
        return None
    medians = {}
    for side in ("app_us", "redis_us"):
        values = [r[side] for r in readings if r.get(side) is not None]
        medians[side] = median(values) if values else None
    return sides(medians["app_us"], medians["redis_us"])


@dataclass
class Round:
    """One round of a mode: its load result beside the floor's, on the same server."""

    rps: float
    p50_ms: float
    p99_ms: float
    floor_rps: float
    floor_p50_ms: float
    floor_p99_ms: float
    # Server CPU per request of the mode's and the floor's run (``bench.cpu``), if measured.
    cpu: dict | None = None
    floor_cpu: dict | None = None

    @property
    def ratio(self) -> float | None:
        return ratio(self.rps, self.floor_rps)


def summarize(rounds: list[Round]) -> dict:
    """
    Return the medians over rounds and the spread (min, max) of rps and ratio.

    The spread is what the rounds disagree by; a difference between two modes smaller
    than their spreads is noise, not a finding.
    """
    if not rounds:
        raise ValueError("no rounds to summarize")
    ratios = [r.ratio for r in rounds if r.ratio is not None]
    return {
        "rps": median(r.rps for r in rounds),
        "floor_rps": median(r.floor_rps for r in rounds),
        "ratio": median(ratios) if ratios else None,
        "p50_ms": median(r.p50_ms for r in rounds),
        "p99_ms": median(r.p99_ms for r in rounds),
        "cpu_us": median_cpu(r.cpu for r in rounds),
        "floor_cpu_us": median_cpu(r.floor_cpu for r in rounds),
        "spread": {
            "rps_min": min(r.rps for r in rounds),
            "rps_max": max(r.rps for r in rounds),
            "ratio_min": min(ratios) if ratios else None,
            "ratio_max": max(ratios) if ratios else None,
        },
    }
