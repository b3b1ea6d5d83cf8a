"""
The README and docs/*.md: every relative link resolves, the README stays an entry point, and
every test they name exists.
"""

import ast
import re
import unicodedata
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[(?:[^\]\n]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::([\w:]+)`")
LAYOUT_ENTRY = re.compile(r"^    (\S[^ ]*(?:, \S+)*)\s{2,}", re.MULTILINE)


def prose(text: str) -> str:
    """Return the text without fenced code blocks, where links are only examples."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    """Return the anchor GitHub gives a heading (links and code marks dropped, as rendered)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").replace("*", "")
    text = "".join(
        ch for ch in text.lower() if ch in " -_" or unicodedata.category(ch)[0] in ("L", "N")
    )
    return text.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Return every heading anchor of a markdown file, numbered as GitHub numbers repeats."""
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(prose(path.read_text())):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def relative_links(path: Path) -> list[str]:
    """Return the targets of the links in a document that point inside the repository."""
    text = CODE_SPAN.sub("", prose(path.read_text()))
    return [
        target
        for target in LINK.findall(text)
        if not re.match(r"[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:
    ]


LINKS = [(doc, target) for doc in DOCUMENTS for target in relative_links(doc)]


def test_the_documents_link_to_each_other():
    assert len(LINKS) > 30


@pytest.mark.parametrize(
    ("doc", "target"), LINKS, ids=[f"{d.relative_to(ROOT)}->{t}" for d, t in LINKS]
)
def test_every_relative_link_resolves(doc, target):
    file_part, _, anchor = target.partition("#")
    destination = (doc.parent / file_part).resolve() if file_part else doc
    assert destination.exists(), f"{doc.relative_to(ROOT)} links to missing {file_part}"
    if anchor:
        assert destination.suffix == ".md", f"an anchor into {file_part}, not a markdown file"
        assert anchor in anchors(destination), (
            f"{doc.relative_to(ROOT)}: no heading #{anchor} in {destination.relative_to(ROOT)}"
        )


def test_every_document_in_docs_is_linked_from_the_readme():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in relative_links(README)}
    unlinked = [doc.name for doc in DOCUMENTS[1:] if doc.resolve() not in linked]
    assert not unlinked, f"not linked from the README: {unlinked}"


def test_the_readme_is_short_and_names_the_two_pages_to_open_early():
    lines = README.read_text().splitlines()
    assert len(lines) < 250
    opening = "\n".join(lines[:80])
    assert "/compare/" in opening
    assert "/app/" in opening


def test_the_readme_keeps_the_two_commands():
    text = README.read_text()
    assert "make run" in text
    assert "make test" in text


def test_the_layout_names_only_top_level_entries_that_exist():
    text = README.read_text()
    layout = text[text.index("## Layout") :]
    entries = [name for group in LAYOUT_ENTRY.findall(layout) for name in group.split(", ")]
    assert len(entries) > 10
    missing = [name for name in entries if not (ROOT / name.rstrip("/")).exists()]
    assert not missing, f"the README's layout names what is not there: {missing}"


@cache
def defined_tests(path: str) -> frozenset[str]:
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
    return frozenset(names)


REFERENCES = sorted(
    {
        (doc, path, name)
        for doc in DOCUMENTS
        for path, name in TEST_REFERENCE.findall(doc.read_text())
    }
)


@pytest.mark.parametrize(
    ("doc", "path", "name"),
    REFERENCES,
    ids=[f"{d.name}:{p}::{n}" for d, p, n in REFERENCES],
)
def test_every_test_a_document_names_exists(doc, path, name):
    assert (ROOT / path).is_file(), f"{doc.name} names {path}, which does not exist"
    assert name in defined_tests(path), f"{doc.name} names {path}::{name}, which does not exist"
