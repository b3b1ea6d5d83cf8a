"""The SVG charts: valid XML a browser will draw, one bar per measured mode."""

import xml.etree.ElementTree as ET

import pytest

from bench.charts import latency_chart, ratio_chart

SVG = "{http://www.w3.org/2000/svg}"


def _mode(name, ratio, *, target=None, edge="api", available=True, reason=""):
    entry = {"name": name, "edge": edge, "available": available, "target": target}
    if available:
        entry.update(
            ratio=ratio,
            p50_ms=ratio * 4,
            p99_ms=ratio * 9,
            spread={"ratio_min": ratio - 0.05, "ratio_max": ratio + 0.05},
        )
    else:
        entry["reason"] = reason
    return entry


MODES = [
    _mode("session-cache", 0.52, target=0.75, edge="storefront"),
    _mode("jwt-stateless-hs256", 0.87, target=0.85),
    _mode("jwt-denylist-hs256", 0.7),
    _mode("jwt-db-rs256", None, available=False, reason="GET /api/me/ answered 404 & <gone>"),
]


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - the chart code's own output, not untrusted input


def _elements(svg: str, tag: str, css_class: str) -> list:
    root = _parse(svg)
    return [e for e in root.iter(f"{SVG}{tag}") if e.get("class") == css_class]


def test_ratio_chart_is_well_formed_svg():
    root = _parse(ratio_chart(MODES, subtitle="2026-01-01 · 2 cores & <wrk>"))
    assert root.tag == f"{SVG}svg"


def test_ratio_chart_draws_one_bar_per_measured_mode():
    bars = _elements(ratio_chart(MODES), "rect", "bar")
    assert [bar.find(f"{SVG}title").text.split(":")[0] for bar in bars] == [
        "session-cache",
        "jwt-stateless-hs256",
        "jwt-denylist-hs256",
    ]


def test_bar_lengths_are_proportional_to_the_ratios():
    bars = _elements(ratio_chart(MODES), "rect", "bar")
    widths = [float(bar.get("width")) for bar in bars]
    assert widths[1] / widths[0] == pytest.approx(0.87 / 0.52, rel=0.01)


def test_ratio_chart_marks_the_target_of_each_mode_that_has_one():
    targets = _elements(ratio_chart(MODES), "line", "target")
    assert len(targets) == 2


def test_unavailable_mode_is_named_with_its_reason_instead_of_a_bar():
    svg = ratio_chart(MODES)
    assert "unavailable: GET /api/me/ answered 404 &amp; &lt;gone&gt;" in svg


def test_latency_chart_draws_p50_and_p99_for_each_measured_entry():
    svg = latency_chart(MODES)
    assert len(_elements(svg, "rect", "p50")) == 3
    assert len(_elements(svg, "rect", "p99")) == 3


def test_a_stock_bar_is_drawn_paler_than_its_fast_twin():
    stock = {**_mode("session-cache-stock", 0.4, edge="storefront"), "variant": "stock"}
    fast = {**_mode("session-cache-fast", 0.6, edge="storefront"), "variant": "fast"}
    bars = _elements(ratio_chart([stock, fast]), "rect", "bar")
    assert [bar.get("fill-opacity") for bar in bars] == ["0.45", None]
