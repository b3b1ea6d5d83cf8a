"""
SVG charts of a run, written by hand (no plotting library): plain, valid, viewable in a
browser or on GitHub.

- ``ratio_chart``: one bar per mode, its median throughput ratio to the floor, the spread
  of the rounds as a whisker, and the issue's target as a red line on the mode's row; a
  stock row's bar is paler than its fast twin's below it.
- ``latency_chart``: p50 and p99 per mode (floors included), side by side.
"""

import math
from xml.sax.saxutils import escape

FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'
LABEL_WIDTH = 270
PLOT_WIDTH = 420
ROW = 26
TOP = 58
COLORS = {"storefront": "#3b6fb6", "api": "#2f9e6b", "floor": "#8a8f98"}


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
            f"<title>{escape(title)}</title>",
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
            *body,
            "</svg>",
            "",
        ]
    )


def _text(x, y, content, *, size=12, anchor="start", fill="#222", extra="") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}" {FONT} {extra}>{escape(str(content))}</text>'
    )


def _nice_max(value: float, step: float) -> float:
    return max(step, math.ceil(value / step) * step)


def _nice_step(value: float, *, most_ticks: int = 6) -> float:
    """The smallest 1-2-5 step that covers ``value`` in at most ``most_ticks`` steps."""
    magnitude = 10 ** math.floor(math.log10(max(value, 1e-9) / most_ticks))
    for factor in (1, 2, 5, 10):
        if value / (factor * magnitude) <= most_ticks:
            return factor * magnitude
    return 10 * magnitude


def ratio_chart(modes: list[dict], *, subtitle: str = "") -> str:
    """Return an SVG of the modes' throughput ratios to their floors, with the targets."""
    title = "Throughput as a ratio to the edge's floor, measured side by side"
    highest = max(
        [1.0]
        + [m["spread"]["ratio_max"] or 0 for m in modes if m.get("available")]
        + [m.get("target") or 0 for m in modes]
    )
    top = _nice_max(highest * 1.05, 0.25)
    width = LABEL_WIDTH + PLOT_WIDTH + 90
    height = TOP + ROW * len(modes) + 70
    x0 = LABEL_WIDTH

    def x(value: float) -> float:
        return x0 + value / top * PLOT_WIDTH

    body = [
        _text(12, 22, title, size=15, extra='font-weight="600"'),
        _text(12, 40, subtitle, size=11, fill="#666"),
    ]
    plot_bottom = TOP + ROW * len(modes)
    tick = 0.0
    while tick <= top + 1e-9:
        body.append(
            f'<line x1="{x(tick):.1f}" y1="{TOP - 6}" x2="{x(tick):.1f}" y2="{plot_bottom}" '
            f'stroke="{"#555" if abs(tick - 1) < 1e-9 else "#e3e3e3"}" stroke-width="1"/>'
        )
        body.append(_text(x(tick), plot_bottom + 16, f"{tick:.2f}", size=10, anchor="middle"))
        tick += 0.25
    body.append(_text(x(1.0) + 3, TOP - 10, "floor = 1.0", size=10, fill="#555"))

    for index, mode in enumerate(modes):
        y = TOP + index * ROW
        body.append(_text(x0 - 8, y + ROW / 2 + 4, mode["name"], anchor="end"))
        if not mode.get("available"):
            reason = mode.get("reason", "")
            short = reason if len(reason) <= 60 else reason[:57] + "..."
            body.append(
                _text(x0 + 4, y + ROW / 2 + 4, f"unavailable: {short}", size=11, fill="#a33")
            )
            continue
        ratio = mode["ratio"] or 0.0
        color = COLORS.get(mode.get("edge"), "#3b6fb6")
        # A stock row is drawn paler than the fast row below it.
        pale = ' fill-opacity="0.45"' if mode.get("variant") == "stock" else ""
        body.append(
            f'<rect class="bar" x="{x0}" y="{y + 5}" width="{x(ratio) - x0:.1f}" '
            f'height="{ROW - 10}" fill="{color}"{pale}><title>{escape(mode["name"])}: '
            f"{ratio:.2f}</title></rect>"
        )
        low, high = mode["spread"]["ratio_min"], mode["spread"]["ratio_max"]
        if low is not None and high is not None:
            mid = y + ROW / 2
            body.append(
                f'<path class="spread" d="M{x(low):.1f} {mid - 5}v10M{x(low):.1f} {mid}'
                f'H{x(high):.1f}M{x(high):.1f} {mid - 5}v10" stroke="#111" fill="none"/>'
            )
        if mode.get("target"):
            body.append(
                f'<line class="target" x1="{x(mode["target"]):.1f}" y1="{y + 1}" '
                f'x2="{x(mode["target"]):.1f}" y2="{y + ROW - 1}" stroke="#d62728" '
                f'stroke-width="3"><title>target: at least {mode["target"]:.2f}</title></line>'
            )
        label = f"{ratio:.2f}"
        body.append(_text(x(max(ratio, high or 0)) + 6, y + ROW / 2 + 4, label, size=11))

    legend_y = plot_bottom + 40
    body += [
        f'<rect x="{x0}" y="{legend_y - 9}" width="14" height="10" fill="{COLORS["storefront"]}"/>',
        _text(x0 + 18, legend_y, "storefront (session)", size=11),
        f'<rect x="{x0 + 150}" y="{legend_y - 9}" width="14" height="10" fill="{COLORS["api"]}"/>',
        _text(x0 + 168, legend_y, "API (JWT)", size=11),
        f'<line x1="{x0 + 250}" y1="{legend_y - 10}" x2="{x0 + 250}" y2="{legend_y + 1}" '
        'stroke="#d62728" stroke-width="3"/>',
        _text(x0 + 256, legend_y, "target", size=11),
        _text(x0 + 305, legend_y, "|—| spread of rounds", size=11),
        _text(x0, legend_y + 18, "paler bar: the stock path (AUTH_FAST_PATH=0)", size=11),
    ]
    return _svg(width, height, body, title)


def latency_chart(entries: list[dict], *, subtitle: str = "") -> str:
    """Return an SVG of p50 and p99 latency per entry (floors and modes)."""
    title = "Latency under load: p50 and p99 (ms)"
    shown = [e for e in entries if e.get("available")]
    highest = max([1.0] + [e["p99_ms"] for e in shown])
    step = _nice_step(highest * 1.05)
    top = _nice_max(highest * 1.05, step)
    width = LABEL_WIDTH + PLOT_WIDTH + 90
    height = TOP + ROW * len(entries) + 70
    x0 = LABEL_WIDTH

    def x(value: float) -> float:
        return x0 + value / top * PLOT_WIDTH

    body = [
        _text(12, 22, title, size=15, extra='font-weight="600"'),
        _text(12, 40, subtitle, size=11, fill="#666"),
    ]
    plot_bottom = TOP + ROW * len(entries)
    for tick in range(round(top / step) + 1):
        value = tick * step
        body.append(
            f'<line x1="{x(value):.1f}" y1="{TOP - 6}" x2="{x(value):.1f}" y2="{plot_bottom}" '
            'stroke="#e3e3e3" stroke-width="1"/>'
        )
        body.append(_text(x(value), plot_bottom + 16, f"{value:g}", size=10, anchor="middle"))
    for index, entry in enumerate(entries):
        y = TOP + index * ROW
        body.append(_text(x0 - 8, y + ROW / 2 + 4, entry["name"], anchor="end"))
        if not entry.get("available"):
            body.append(_text(x0 + 4, y + ROW / 2 + 4, "unavailable", size=11, fill="#a33"))
            continue
        half = (ROW - 8) / 2
        body.append(
            f'<rect class="p50" x="{x0}" y="{y + 4}" width="{x(entry["p50_ms"]) - x0:.1f}" '
            f'height="{half:.1f}" fill="#3b6fb6"><title>p50 {entry["p50_ms"]:.2f} ms</title></rect>'
        )
        body.append(
            f'<rect class="p99" x="{x0}" y="{y + 4 + half:.1f}" '
            f'width="{x(entry["p99_ms"]) - x0:.1f}" height="{half:.1f}" fill="#e08a2c">'
            f"<title>p99 {entry['p99_ms']:.2f} ms</title></rect>"
        )
        body.append(
            _text(
                x(entry["p99_ms"]) + 6,
                y + ROW / 2 + 4,
                f"{entry['p50_ms']:.1f} / {entry['p99_ms']:.1f}",
                size=11,
            )
        )
    legend_y = plot_bottom + 40
    body += [
        f'<rect x="{x0}" y="{legend_y - 9}" width="14" height="10" fill="#3b6fb6"/>',
        _text(x0 + 18, legend_y, "p50", size=11),
        f'<rect x="{x0 + 60}" y="{legend_y - 9}" width="14" height="10" fill="#e08a2c"/>',
        _text(x0 + 78, legend_y, "p99", size=11),
    ]
    return _svg(width, height, body, title)
