"""
``manage.py bench``: the benchmark behind ``make bench`` and ``make bench-quick``.

Run it with the bench settings (the Makefile does):
``DJANGO_SETTINGS_MODULE=config.settings.bench python manage.py bench [--quick]``.
"""

import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bench import report, revocation_lag, rtt
from bench.modes import ASYMMETRIC_ALGORITHMS, all_modes
from bench.run_config import RESULTS_DIR, RunConfig
from bench.runner import Runner
from bench.server import BENCH_SETTINGS


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(float(part)) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise CommandError(f"--scale-sizes: not a list of numbers: {text!r}") from exc
    if not sizes or any(size <= 0 for size in sizes) or list(sizes) != sorted(sizes):
        raise CommandError("--scale-sizes: give increasing positive numbers, e.g. 1e4,1e5,1e6")
    return sizes


class Command(BaseCommand):
    help = (
        "Benchmark sessions vs JWT: serve the site with gunicorn once per mode on "
        "127.0.0.1 (every mode on the stock path and on the fast path), drive it with wrk "
        "beside its unauthenticated floor, and write bench/results/latest.json and SVG charts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--quick",
            action="store_true",
            help=(
                "every mode but diagnostics, stock and fast, 1 round of 1 s, scale at 10^4 "
                "only: under two minutes"
            ),
        )
        parser.add_argument("--duration", type=int, help="seconds per load run (full: 3)")
        parser.add_argument("--rounds", type=int, help="floor/mode rounds per mode (full: 5)")
        parser.add_argument("--warmup", type=int, help="warm-up seconds per URL (full: 1)")
        parser.add_argument("--connections", type=int, default=8, help="wrk -c (8)")
        parser.add_argument("--threads", type=int, default=2, help="wrk -t (2)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
        parser.add_argument(
            "--mode",
            action="append",
            dest="modes",
            default=[],
            metavar="NAME",
            help=(
                "measure only this mode (repeatable; a name without -stock or -fast means "
                "both); --list-modes shows the names"
            ),
        )
        parser.add_argument("--list-modes", action="store_true", help="list the modes and exit")
        parser.add_argument(
            "--floors-only", action="store_true", help="measure only the two floors"
        )
        parser.add_argument(
            "--asymmetric",
            default="RS256",
            choices=ASYMMETRIC_ALGORITHMS,
            help="the asymmetric JWT algorithm measured beside HS256 (RS256)",
        )
        parser.add_argument(
            "--no-rtt",
            action="store_true",
            help="skip the network-hop rows (Redis and PostgreSQL behind a delayed link)",
        )
        parser.add_argument(
            "--rtt-mode",
            action="append",
            dest="rtt_modes",
            default=[],
            metavar="NAME",
            help=(
                "measure this mode over the delayed link (repeatable; default with no --mode: "
                "the sessions in Redis, JWT with a database lookup, JWT stateless)"
            ),
        )
        parser.add_argument("--no-micro", action="store_true", help="skip the micro-costs")
        parser.add_argument("--no-scale", action="store_true", help="skip the scale measurements")
        parser.add_argument(
            "--scale-sizes", type=_sizes, help="stored sessions to measure at (full: 1e4,1e5,1e6)"
        )
        parser.add_argument(
            "--scale-redis-url",
            default=os.environ.get("BENCH_SCALE_REDIS_URL", ""),
            help="a Redis database of its own for the scale run (default: $BENCH_SCALE_REDIS_URL)",
        )
        parser.add_argument(
            "--flush-scale-db",
            action="store_true",
            help="empty the scale Redis database even if it holds keys (else it must be empty)",
        )
        parser.add_argument(
            "--python-loadgen",
            action="store_true",
            help="use the built-in Python load generator even if wrk is installed",
        )
        parser.add_argument(
            "--output-dir", type=Path, default=RESULTS_DIR, help="where to write the results"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument(
            "--no-pin-asgi-workers",
            action="store_true",
            help="leave uvicorn's workers to the scheduler instead of one CPU each",
        )

    def handle(self, *args, **options):
        if options["list_modes"]:
            for mode in all_modes(asymmetric_algorithm=options["asymmetric"]):
                self.stdout.write(f"{mode.name:<30} {mode.label}")
            return
        if os.environ.get("DJANGO_SETTINGS_MODULE") != BENCH_SETTINGS:
            raise CommandError(
                f"run with DJANGO_SETTINGS_MODULE={BENCH_SETTINGS} (make bench does)"
            )
        config = self.config(options)
        try:
            result = Runner(config, err=sys.stderr).run()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.print_result(result, config)

    def config(self, options) -> RunConfig:
        overrides = {
            "connections": options["connections"],
            "threads": options["threads"],
            "workers": options["workers"],
            "mode_names": options["modes"],
            "floors_only": options["floors_only"],
            "asymmetric_algorithm": options["asymmetric"],
            "output_dir": options["output_dir"],
            "micro": not options["no_micro"],
            "rtt": not options["no_rtt"],
            "rtt_mode_names": options["rtt_modes"],
            "scale": not options["no_scale"],
            "scale_redis_url": options["scale_redis_url"],
            "flush_scale_db": options["flush_scale_db"],
            "python_loadgen": options["python_loadgen"],
            "progress": not options["no_progress"],
            "pin_asgi_workers": not options["no_pin_asgi_workers"],
        }
        for option, name in (
            ("duration", "duration_s"),
            ("rounds", "rounds"),
            ("warmup", "warmup_s"),
            ("scale_sizes", "scale_sizes"),
        ):
            if options[option] is not None:
                overrides[name] = options[option]
        if overrides.get("duration_s", 1) < 1 or overrides.get("rounds", 1) < 1:
            raise CommandError("--duration and --rounds must be at least 1")
        if options["quick"]:
            return RunConfig.quick_preset(**overrides)
        return RunConfig.full(**overrides)

    def print_result(self, result: dict, config: RunConfig) -> None:
        run = result["header"]["run"]
        self.stdout.write("")
        self.stdout.write(
            f"{run['server']}; load: {run['loadgen']} -t{run['threads']} -c{run['connections']}, "
            f"{run['rounds']} round(s) of {run['duration_s']} s per mode and floor"
        )
        self.stdout.write(
            "ratio = mode req/s / floor req/s, measured side by side on the same server "
            "(median of rounds; spread = min-max of rounds)"
        )
        self.stdout.write(report.VARIANTS_LEGEND)
        self.stdout.write(report.CPU_LEGEND)
        self.stdout.write("")
        self.stdout.write(report.format_table(result["modes"]))
        parts = (
            report.format_session_targets(result["modes"]),
            revocation_lag.format_lag(result.get("revocation_lag")),
            rtt.format_rtt(result.get("rtt")),
            report.format_asgi(result["modes"]),
            report.format_micro(result["micro"]),
            report.format_scale(result["scale"]),
        )
        for part in parts:
            if part:
                self.stdout.write("")
                self.stdout.write(part)
        self.stdout.write("")
        self.stdout.write(
            f"wrote {config.output_dir / 'latest.json'}, "
            + ", ".join(str(config.output_dir / chart) for chart in result["charts"])
        )
