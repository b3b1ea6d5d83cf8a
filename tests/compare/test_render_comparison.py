"""scripts/render_comparison.py: the benchmark section of docs/comparison.md, from latest.json."""

import json
from pathlib import Path

import pytest

from compare.xss_exposure import COLUMNS, XSS_EXPOSURE_PATH, xss_exposure, xss_markdown
from scripts.render_comparison import (
    BEGIN,
    END,
    FAILURES_BEGIN,
    FAILURES_END,
    XSS_BEGIN,
    XSS_END,
    failure_table,
    main,
)
from tests.support.compare import sample_results, with_variants

ROOT = Path(__file__).resolve().parents[2]
HAND_WRITTEN_ABOVE = "# Comparison\n\nWritten by hand.\n\n"
HAND_WRITTEN_BELOW = "\n\n## After\n\nAlso by hand.\n"


@pytest.fixture
def repo(tmp_path):
    """A document with an empty generated section and a results file beside it, repo-shaped."""
    doc = tmp_path / "docs" / "comparison.md"
    doc.parent.mkdir()
    doc.write_text(f"{HAND_WRITTEN_ABOVE}{BEGIN}\n{END}{HAND_WRITTEN_BELOW}")
    results = tmp_path / "bench" / "results" / "latest.json"
    results.parent.mkdir(parents=True)
    results.write_text(json.dumps(sample_results()))
    return doc, results


def render(doc, results, *extra) -> int:
    return main(["--doc", str(doc), "--results", str(results), *extra])


def generated(doc) -> str:
    text = doc.read_text()
    return text[text.index(BEGIN) + len(BEGIN) : text.index(END)]


def test_the_section_states_the_date_machine_and_setup_of_the_run(repo):
    doc, results = repo
    assert render(doc, results) == 0
    section = generated(doc)
    assert "Measured **2026-11-20 14:05 UTC** on **Test CPU 9000, 2 cores, Linux-test**" in section
    assert "wrk -t2 -c8" in section
    assert "3 round(s) of 5 s per mode" in section
    assert "commit 0123456789" in section


def test_the_section_has_a_row_per_mode_with_its_numbers(repo):
    doc, results = repo
    render(doc, results)
    section = generated(doc)
    assert (
        "| session, Redis store | `/accounts/me/` | 510 | 1000 | 0.51 | 0.49–0.53 | 4.50 | 12.25 "
        "| 0 | 1 | 612 | 37 |"
    ) in section
    # A run that did not measure CPU (an older results file) shows a dash, not a zero.
    assert "| 400 | 1000 | 0.40 | 0.38–0.42 | 4.50 | 12.25 | 1 | 0 | – | – |" in section
    assert "| session, signed cookies | `/accounts/me/` | unavailable: server did not start |" in (
        section
    )
    assert "| JWT verify, HS256 | 46 | 231-byte token |" in section
    assert "| database | 1,000,000 | skipped: insert would take 20 min |" in section


def test_a_fast_row_shows_its_ratio_over_its_stock_row_in_the_last_column(repo):
    doc, results = repo
    results.write_text(json.dumps(with_variants(sample_results(), stock_ratio=0.3)))
    render(doc, results)
    section = generated(doc)
    assert "| session, Redis store, stock | `/accounts/me/` | 300 | 1000 | 0.30 |" in section
    assert "| 612 | 37 | 1.70 |" in section
    assert "fast/stock" in section


def test_the_charts_are_linked_relative_to_the_document(repo):
    doc, results = repo
    render(doc, results)
    assert "![ratio](../bench/results/ratio.svg)" in generated(doc)
    assert "![latency](../bench/results/latency.svg)" in generated(doc)


def test_only_the_marked_section_changes(repo):
    doc, results = repo
    render(doc, results)
    text = doc.read_text()
    assert text.startswith(HAND_WRITTEN_ABOVE + BEGIN)
    assert text.endswith(END + HAND_WRITTEN_BELOW)


def test_rendering_twice_changes_nothing_the_second_time(repo):
    doc, results = repo
    render(doc, results)
    first = doc.read_text()
    render(doc, results)
    assert doc.read_text() == first


def test_without_results_the_section_says_how_to_make_them(repo, tmp_path):
    doc, _ = repo
    assert render(doc, tmp_path / "missing.json") == 0
    assert "run `make bench`" in generated(doc)


def test_a_quick_run_is_flagged(repo):
    doc, results = repo
    data = sample_results()
    data["header"]["run"]["quick"] = True
    results.write_text(json.dumps(data))
    render(doc, results)
    assert "**Quick run**" in generated(doc)


def test_check_reports_a_stale_document_without_changing_it(repo):
    doc, results = repo
    before = doc.read_text()
    assert render(doc, results, "--check") == 1
    assert doc.read_text() == before


def test_check_passes_once_the_document_is_rendered(repo):
    doc, results = repo
    render(doc, results)
    assert render(doc, results, "--check") == 0


def test_a_document_without_markers_is_refused_and_left_alone(repo):
    doc, results = repo
    doc.write_text("No markers here.\n")
    assert render(doc, results) == 2
    assert doc.read_text() == "No markers here.\n"


def test_the_project_s_comparison_document_has_the_markers(tmp_path):
    text = (ROOT / "docs" / "comparison.md").read_text()
    assert text.index(BEGIN) < text.index(END)


FAILURE_DOC = """# What still works

Rules.

## The table

| mode | Redis down |
|---|---|
| session | 503 |

**After the outage.** It recovers.

## Tests

- tests/outage/
"""


@pytest.fixture
def failures(repo):
    doc, _ = repo
    doc.write_text(doc.read_text() + f"\n{FAILURES_BEGIN}\n{FAILURES_END}\n")
    path = doc.parent / "failure-table.md"
    path.write_text(FAILURE_DOC)
    return path


def test_the_failure_table_is_copied_from_the_outage_suite_s_document(repo, failures):
    doc, results = repo
    assert render(doc, results, "--failures", str(failures)) == 0
    text = doc.read_text()
    copied = text[text.index(FAILURES_BEGIN) + len(FAILURES_BEGIN) : text.index(FAILURES_END)]
    assert "| session | 503 |" in copied
    assert "**After the outage.** It recovers." in copied
    assert "## Tests" not in copied


def test_without_the_outage_suite_s_document_the_section_says_so(repo, failures):
    doc, results = repo
    failures.unlink()
    render(doc, results, "--failures", str(failures))
    assert "is not there yet" in doc.read_text()


def test_the_project_s_comparison_document_carries_the_current_failure_table():
    text = (ROOT / "docs" / "comparison.md").read_text()
    copied = text[text.index(FAILURES_BEGIN) + len(FAILURES_BEGIN) : text.index(FAILURES_END)]
    assert copied.strip() == failure_table(ROOT / "docs" / "failure-table.md"), (
        "docs/failure-table.md changed: run scripts/render_comparison.py"
    )


def test_the_project_s_comparison_document_is_rendered_from_the_committed_results():
    # What /compare/ quotes (latest.json) and what the guide prints must be the same run.
    assert main(["--check"]) == 0, "run scripts/render_comparison.py after a bench run"


@pytest.fixture
def xss(repo):
    """The document with the XSS markers, and the committed measurements beside it."""
    doc, _ = repo
    doc.write_text(doc.read_text() + f"\n{XSS_BEGIN}\n{XSS_END}\n")
    path = doc.parent / "xss-exposure.json"
    path.write_text(XSS_EXPOSURE_PATH.read_text())
    return path


def xss_section(doc) -> str:
    text = doc.read_text()
    return text[text.index(XSS_BEGIN) + len(XSS_BEGIN) : text.index(XSS_END)]


def test_the_xss_table_has_a_column_per_pattern_and_a_row_per_question(repo, xss):
    doc, results = repo
    assert render(doc, results, "--xss", str(xss)) == 0
    lines = xss_section(doc).strip().splitlines()
    assert lines[0] == "| | " + " | ".join(COLUMNS.values()) + " |"
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        "| **What the script reads where it is kept**",
        "| **…and in transit (it wraps fetch and fakes one 401)**",
        "| **What reaches the attacker's server**",
        "| **What the attacker can do after the tab closes, and for how long**",
        "| **What the script can do as the user while the tab is open**",
    ]


def test_each_xss_cell_is_rendered_from_the_measurement(repo, xss):
    doc, results = repo
    data = json.loads(xss.read_text())
    data["patterns"]["session"]["channels"]["fetch"] = False
    data["patterns"]["cookie"]["after_close"] = []
    xss.write_text(json.dumps(data))
    render(doc, results, "--xss", str(xss))
    section = xss_section(doc)
    assert "CSRF token; by XHR, image, beacon, top-level navigation (fetch blocked)" in section
    assert "nothing: no credential arrived" in section


def test_without_measurements_the_xss_section_says_how_to_make_them(repo, xss):
    doc, results = repo
    xss.unlink()
    render(doc, results, "--xss", str(xss))
    assert "run `scripts/xss_exposure.py`" in xss_section(doc)


def test_the_project_s_comparison_document_carries_the_measured_xss_table():
    text = (ROOT / "docs" / "comparison.md").read_text()
    copied = text[text.index(XSS_BEGIN) + len(XSS_BEGIN) : text.index(XSS_END)]
    assert copied.strip() == xss_markdown(xss_exposure()), (
        "docs/xss-exposure.json changed: run scripts/render_comparison.py"
    )
