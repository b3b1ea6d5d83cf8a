"""
The benchmark section of ``docs/comparison.md``, as Markdown, from a ``BenchSummary``
(``compare.benchmark``). Plain Python, no Django, like the summary it renders.
"""

from pathlib import Path

from .benchmark import MISSING, BenchSummary


def _fmt(value, spec: str) -> str:
    return MISSING if value is None else format(value, spec)


def _calls(value) -> str:
    if value is None:
        return MISSING
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(summary: BenchSummary | None, *, charts_href: str) -> str:
    """
    Return the benchmark section of the comparison document: the run's date, machine and
    setup, the table of modes, the charts (linked relative to the document), the
    micro-costs and the scale measurements.
    """
    if summary is None:
        return (
            "_No benchmark results yet: run `make bench` (about 10 minutes), then "
            "`.venv/bin/python scripts/render_comparison.py` to fill this section._"
        )
    date = summary.date.strftime("%Y-%m-%d %H:%M UTC") if summary.date else MISSING
    lines = [
        f"Measured **{date}** on **{summary.machine}** (load average at start {summary.load}).",
        "",
        f"- Software: {summary.software or MISSING}",
        f"- Setup: {summary.setup or MISSING}",
        f"- Code: commit {summary.commit}",
    ]
    if summary.quick:
        lines += [
            "",
            "> **Quick run** (one short round per mode): a smoke test of the harness, not "
            "numbers to quote. Run `make bench` for the full measurement.",
        ]
    lines += [
        "",
        "| mode | endpoint | req/s | floor req/s | ratio to floor | spread | p50 ms | p99 ms "
        "| queries/req | Redis/req | app CPU µs/req | Redis CPU µs/req | fast/stock |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    notes = []
    for mode in summary.modes:
        if not mode.available:
            lines.append(
                f"| {_cell(mode.label)} | `{mode.path}` | unavailable: {_cell(mode.reason)} "
                "| | | | | | | | | | |"
            )
            continue
        spread = (
            f"{mode.ratio_min:.2f}–{mode.ratio_max:.2f}"
            if mode.ratio_min is not None and mode.ratio_max is not None
            else MISSING
        )
        lines.append(
            f"| {_cell(mode.label)} | `{mode.path}` | {_fmt(mode.rps, '.0f')} "
            f"| {_fmt(mode.floor_rps, '.0f')} | {_fmt(mode.ratio, '.2f')} | {spread} "
            f"| {_fmt(mode.p50_ms, '.2f')} | {_fmt(mode.p99_ms, '.2f')} "
            f"| {_calls(mode.queries)} | {_calls(mode.redis_calls)} "
            f"| {_fmt(mode.app_cpu_us, '.0f')} | {_fmt(mode.redis_cpu_us, '.0f')} "
            f"| {_fmt(mode.vs_stock, '.2f')} |"
        )
        notes += [f"- {mode.name}: {_cell(note)}" for note in mode.notes]
    lines += [
        "",
        "CPU µs/req is the CPU time per request, read around each load run: *app* is the "
        "gunicorn processes (Django, and SQLite when it is the database), *Redis* the Redis "
        "server (its background timer shows as 0–1 µs even where a mode sends it nothing). "
        "The load generator's own CPU is in neither, though it shares the cores. "
        "A PostgreSQL server's CPU is not counted.",
        "",
        "Every mode is measured twice in the same run: *stock* with `AUTH_FAST_PATH=0` "
        "(Django's and simplejwt's own pieces) and *fast path* with `AUTH_FAST_PATH=1` (the "
        "project's speed work). *fast/stock* is the fast row's ratio to its floor over the "
        "stock row's, each measured beside its own floor.",
    ]
    measured = [target for target in summary.targets if target["ratio"] is not None]
    if measured:
        lines += ["", "| session target (req/s over req/s, this run) | measured | target | |"]
        lines.append("|---|--:|--:|---|")
        for target in measured:
            verdict = "met" if target["met"] else "**not met**"
            lines.append(
                f"| {target['what']} (`{target['mode']}` / `{target['compared_with']}`) "
                f"| {target['ratio']:.2f} | {target['target']:g} | {verdict} |"
            )
    lag = summary.revocation_lag
    if lag and "p99_ms" in lag:
        verdict = "met" if lag.get("meets_target") else "**not met**"
        lines += [
            "",
            f"Revocation lag with `SESSION_CLIENT_CACHE=1` (`{lag['name']}`): from a sign-out's "
            f"answer on one worker to the first refused request on every worker, "
            f"{lag['trials']} trials on {lag['workers']} workers under load: "
            f"p50 {lag['p50_ms']:.2f} ms, p99 {lag['p99_ms']:.2f} ms, max {lag['max_ms']:.2f} ms "
            f"(target p99 < {lag['target_p99_ms']:g} ms: {verdict}); "
            f"{lag['never_refused']} never refused; at most "
            f"{lag['served_after_sign_out_max']} request(s) still served after a sign-out. "
            "Each figure is an upper bound: it includes the time the measuring client takes "
            "to send its first request after the answer.",
        ]
    asgi = [mode for mode in summary.modes if mode.vs_wsgi is not None]
    if asgi:
        lines += [
            "",
            "Under uvicorn (ASGI, the rows ending in *uvicorn*): req/s over the same mode's "
            "under gunicorn, in this run.",
            "",
            "| served by uvicorn | req/s | gunicorn's req/s | uvicorn / gunicorn |",
            "|---|--:|--:|--:|",
        ]
        for mode in asgi:
            lines.append(
                f"| {_cell(mode.label)} | {_fmt(mode.rps, '.0f')} "
                f"| {_fmt(mode.rps / mode.vs_wsgi if mode.rps else None, '.0f')} "
                f"| {mode.vs_wsgi:.2f} |"
            )
    lines += _rtt_lines(summary.rtt)
    if notes:
        lines += ["", "Notes from the run:", "", *notes]
    if summary.charts:
        lines.append("")
        for chart in summary.charts:
            title = Path(chart).stem.replace("_", " ")
            lines.append(f"![{title}]({charts_href}/{chart})")
    if summary.micro:
        lines += ["", "| in process (median) | µs | |", "|---|--:|---|"]
        for cost in summary.micro:
            lines.append(
                f"| {_cell(cost.what)} | {_fmt(cost.median_us, ',.0f')} | {_cell(cost.detail)} |"
            )
    if summary.scale:
        lines += [
            "",
            "| session store | sessions stored | lookup median µs | lookup p99 µs "
            "| bytes/session |",
            "|---|--:|--:|--:|--:|",
        ]
        for row in summary.scale:
            if row.skipped:
                lines.append(
                    f"| {row.store} | {row.sessions:,} | skipped: {_cell(row.skipped)} | | |"
                )
                continue
            lines.append(
                f"| {row.store} | {row.sessions:,} | {_fmt(row.lookup_median_us, '.0f')} "
                f"| {_fmt(row.lookup_p99_us, '.0f')} | {_fmt(row.bytes_per_session, '.0f')} |"
            )
    lines += ["", f"Token tables: {summary.token_rows}."]
    return "\n".join(lines)


def _rtt_lines(rtt: dict | None) -> list[str]:
    """The network-hop rows (bench/rtt.py) as one table: a line per mode and server."""
    if not rtt:
        return []
    if not rtt.get("available"):
        return ["", f"Network hop: not measured in this run ({rtt.get('reason')})."]
    rtts = rtt["rtts_ms"]
    probed = rtt.get("probed_rtt_ms") or {}
    probed_text = ", ".join(
        f"{float(k):g} ms → {v:.2f} ms" for k, v in probed.items() if v is not None
    )
    configs = "; ".join(f"*{name}*: {label}" for name, label in rtt["configs"].items())
    lines = [
        "",
        "Network hop (rows `rtt-…`): Redis and PostgreSQL behind a delayed link, "
        f"{rtt['link']}. Added round trip → median Redis PING measured over it: "
        f"{probed_text}. Servers: {configs}. Each cell: req/s (p99 ms).",
        "",
        "| mode | server | " + " | ".join(f"+{r:g} ms" for r in rtts) + " | last / first |",
        "|---|---|" + "--:|" * len(rtts) + "--:|",
    ]
    grouped: dict[tuple[str, str], dict[float, dict]] = {}
    labels = {}
    for row in rtt["rows"]:
        grouped.setdefault((row["mode"], row["server"]), {})[row["rtt_ms"]] = row
        labels[row["mode"]] = row["label"]
    for (mode, server), by_rtt in grouped.items():
        cells = []
        for r in rtts:
            row = by_rtt.get(r)
            if row is None or not row.get("available"):
                cells.append("unavailable")
            else:
                cells.append(f"{row['rps']:.0f} ({row['p99_ms']:.1f})")
        last = by_rtt.get(rtts[-1]) or {}
        vs = last.get("vs_no_delay")
        lines.append(
            f"| {_cell(labels[mode])} | {server} | " + " | ".join(cells) + f" | {_fmt(vs, '.2f')} |"
        )
    return lines
