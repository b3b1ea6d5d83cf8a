"""
What an injected script gets under each way of holding the credentials, as measured in
Chromium by tests/browser/test_xss_exposure.py and committed in docs/xss-exposure.json:
read here into the table that /compare/ and docs/comparison.md show, one cell per
observation, so every cell is what the test saw.

Plain Python, no Django: scripts/render_comparison.py renders the guide with it outside the
site. The page reaches it as ``compare.selectors.xss_exposure``.
"""

import json
from dataclasses import dataclass
from pathlib import Path

XSS_EXPOSURE_PATH = Path(__file__).resolve().parents[1] / "docs" / "xss-exposure.json"

# The four columns of every comparison: the three patterns of /app/ and the storefront.
COLUMNS = {
    "memory": "Tokens in memory",
    "cookie": "Refresh token in an HttpOnly cookie",
    "localstorage": "Tokens in localStorage (avoid)",
    "session": "Storefront session",
}
# The ways a script can send a request to another origin, in the order the test tries them.
CHANNELS = ["fetch", "xhr", "img", "beacon", "navigation"]
CHANNEL_NAMES = {
    "fetch": "fetch",
    "xhr": "XHR",
    "img": "image",
    "beacon": "beacon",
    "navigation": "top-level navigation",
}


@dataclass(frozen=True)
class XssRow:
    label: str
    cells: list[str]


@dataclass(frozen=True)
class XssTable:
    columns: list[str]
    rows: list[XssRow]


def _listed(items: list[str], *, empty: str = "nothing") -> str:
    return ", ".join(items) if items else empty


def _reaches(observed: dict) -> str:
    through = [CHANNEL_NAMES[c] for c in CHANNELS if observed["channels"][c]]
    blocked = [CHANNEL_NAMES[c] for c in CHANNELS if not observed["channels"][c]]
    what = _listed(observed["arrived"])
    how = f"by {_listed(through)}" if through else "no channel got through"
    if blocked:
        how += f" ({_listed(blocked)} blocked)"
    return f"{what}; {how}"


def _after_close(observed: dict) -> str:
    tried = observed["after_close"]
    if not any(entry["status"] == 200 for entry in tried):
        return "nothing: " + _listed(
            [f"{e['credential']}: {e['request']} → {e['status']}" for e in tried],
            empty="no credential arrived",
        )
    return "; ".join(
        f"{e['credential']}: {e['request']} → {e['status']}"
        + (f", {e['usable_for']}" if e["status"] == 200 else "")
        for e in tried
    )


def _while_open(observed: dict) -> str:
    done = "; ".join(f"{entry['request']} → {entry['status']}" for entry in observed["while_open"])
    if observed["cart_changed_by_script"]:
        done += "; the cart changed"
    return done


ROWS = [
    ("What the script reads where it is kept", lambda o: _listed(o["reads_at_rest"])),
    (
        "…and in transit (it wraps fetch and fakes one 401)",
        lambda o: _listed(o["reads_in_transit"], empty="nothing (the page makes no fetch)"),
    ),
    ("What reaches the attacker's server", _reaches),
    ("What the attacker can do after the tab closes, and for how long", _after_close),
    ("What the script can do as the user while the tab is open", _while_open),
]


def xss_exposure(path: Path = XSS_EXPOSURE_PATH) -> XssTable | None:
    """Return the measured table, or None if the file is missing or holds another pattern set."""
    try:
        patterns = json.loads(path.read_text())["patterns"]
    except (OSError, ValueError, KeyError):
        return None
    if set(patterns) != set(COLUMNS):
        return None
    return XssTable(
        columns=list(COLUMNS.values()),
        rows=[
            XssRow(label=label, cells=[cell(patterns[name]) for name in COLUMNS])
            for label, cell in ROWS
        ],
    )


def xss_markdown(table: XssTable | None) -> str:
    """Return the table as Markdown, or how to produce it if it has not been measured."""
    if table is None:
        return "_Not measured yet: run `scripts/xss_exposure.py`._"
    lines = [
        "| | " + " | ".join(table.columns) + " |",
        "|---" * (len(table.columns) + 1) + "|",
    ]
    for row in table.rows:
        cells = [cell.replace("|", "\\|") for cell in row.cells]
        lines.append(f"| **{row.label}** | " + " | ".join(cells) + " |")
    return "\n".join(lines)
