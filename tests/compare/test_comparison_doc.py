"""docs/comparison.md names the tests behind its claims; every one of them must exist."""

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "comparison.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::([\w:]+)`")


@cache
def defined_tests(path: str) -> set[str]:
    """Return "test_name" and "TestClass::test_name" for every test defined in the file."""
    tree = ast.parse((ROOT / path).read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names |= {
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test_")
            }
    return names


REFERENCES = sorted(set(REFERENCE.findall(DOC.read_text())))


def test_the_document_names_tests():
    assert len(REFERENCES) > 40


@pytest.mark.parametrize(("path", "name"), REFERENCES, ids=[f"{p}::{n}" for p, n in REFERENCES])
def test_every_test_the_document_names_exists(path, name):
    assert (ROOT / path).is_file(), f"{path} does not exist"
    assert name in defined_tests(path), f"{path} has no test {name}"


def test_every_cell_of_the_revocation_table_names_its_tests():
    text = DOC.read_text()
    evidence = text[
        text.index("### The tests behind each cell") : text.index("## What still works")
    ]
    events = ("sign-out", "password change", "deactivation", "admin kill", "stolen")
    for group in re.split(r"\n- \*\*", evidence)[1:]:
        title = group.split("**", 1)[0]
        for event in events:
            line = next(
                (row for row in group.splitlines() if row.strip().startswith(f"- {event}:")), ""
            )
            assert REFERENCE.search(line), f"{title}: no test named for {event}"
