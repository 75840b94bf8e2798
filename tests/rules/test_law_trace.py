"""docs/law.md traces every finding code to the law, and names only codes and tests that exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from requests_app.rules.catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
LAW = ROOT / "docs" / "law.md"
CODE = re.compile(r"`([A-Z][A-Z0-9_]{2,})`")
ABBREVIATIONS = re.compile(r"(\w+) = `(tests/[\w/]+\.py)`")


def _rows() -> list[list[str]]:
    rows = []
    for line in LAW.read_text(encoding="utf-8").splitlines():
        if line.startswith("|") and not line.startswith("|---") and not line.startswith("| Provision"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _codes_in_rows() -> set[str]:
    return {code for row in _rows() for code in CODE.findall(row[1])}


def test_every_finding_code_has_a_row() -> None:
    missing = sorted(set(CATALOGUE) - _codes_in_rows())
    assert not missing, f"docs/law.md has no row for {missing}"


def test_every_code_named_in_a_row_exists() -> None:
    unknown = sorted(_codes_in_rows() - set(CATALOGUE))
    assert not unknown, f"docs/law.md names codes that do not exist: {unknown}"
    text = LAW.read_text(encoding="utf-8")
    assert not sorted(set(CODE.findall(text)) - set(CATALOGUE)), "codes outside the Codes column"


def test_rows_have_five_cells_and_name_existing_tests() -> None:
    text = LAW.read_text(encoding="utf-8")
    files = dict(ABBREVIATIONS.findall(text))
    assert files, "the abbreviations of the test files are listed"
    for path in files.values():
        assert (ROOT / path).is_file(), path
    names = "\n".join((ROOT / p).read_text(encoding="utf-8") for p in files.values())
    for row in _rows():
        assert len(row) == 5, row
        for abbreviation in re.findall(r"\b([A-Z]{2,4})\b", row[2]):
            assert abbreviation in files, (abbreviation, row)
        for test in re.findall(r"`(test_\w+?)(?:\.\.\.|_\.\.\.)?`", row[2]):
            assert f"def {test}" in names or test.rstrip("_") in names, test


def test_the_eu_headings_exist() -> None:
    text = LAW.read_text(encoding="utf-8")
    assert "## Regulation (EU) 2023/1543" in text
    assert "## Directive (EU) 2023/1544" in text


# --- Every article and annex the issue names has a row (issue 11 item 6) ---------------------

_ARTICLES = re.compile(
    r"Art\.\s*(\d+(?:\([0-9a-z]+\))*(?:(?:\s*[-–,]\s*|\s+with\s+)(?:\d+|\([0-9a-z]+\))(?:\([0-9a-z]+\))*)*)")


def _section(heading: str) -> list[str]:
    """The Provision cells of the table under ``## heading``."""
    text = LAW.read_text(encoding="utf-8")
    start = text.index(f"## {heading}")
    end = text.find("\n## ", start + 3)
    cells = []
    for line in text[start:end if end != -1 else None].splitlines():
        if line.startswith("|") and not line.startswith("|---") and not line.startswith("| Provision"):
            cells.append(line.strip("|").split("|")[0])
    return cells


def _articles(cells: list[str]) -> set[int]:
    found: set[int] = set()
    for cell in cells:
        for match in _ARTICLES.finditer(cell):
            bare = re.sub(r"\([0-9a-z]+\)", "", match.group(1))
            for first, last in re.findall(r"(\d+)\s*[-–]\s*(\d+)", bare):
                found.update(range(int(first), int(last) + 1))
            found.update(int(n) for n in re.findall(r"\d+", bare))
    return found


def _annexes(cells: list[str]) -> set[str]:
    return {numeral for cell in cells for numeral in re.findall(r"Annex ([IVX]+)\b", cell)}


@pytest.mark.parametrize(("heading", "articles", "annexes"), [
    ("Regulation (EU) 2023/1543", range(1, 35), {"I", "II", "III", "IV", "V", "VI"}),
    ("Directive (EU) 2023/1544", range(1, 8), set()),
    ("Regulation (EU) 2022/2065", (9, 10, 18), set()),
])
def test_every_article_and_annex_has_a_row(heading: str, articles: Any, annexes: set[str]) -> None:
    cells = _section(heading)
    missing = sorted(set(articles) - _articles(cells))
    assert not missing, f"{heading}: no row for Art. {missing}"
    assert not sorted(annexes - _annexes(cells)), f"{heading}: no row for Annex {sorted(annexes - _annexes(cells))}"


def test_every_us_section_has_a_row() -> None:
    cells = _section("United States")
    sections = {int(n) for cell in cells for n in re.findall(r"§+ ?(\d{4})", cell)}
    assert {2702, 2703, 2711, 2523} <= sections, sorted({2702, 2703, 2711, 2523} - sections)


@pytest.mark.parametrize(("cell", "articles"), [
    ("Art. 19-21 (decentralised IT system)", {19, 20, 21}),
    ("Art. 5(6)-(8) (infrastructure)", {5}),
    ("Art. 9(2)(c), 10(2)(c), 11(3)", {9, 10, 11}),
    ("Art. 8(1)-(2), 8(4) with 10(4) (emergency without notification)", {8, 10}),
    ("Art. 7(2) (emergency: another establishment)", {7}),
])
def test_the_article_reader_reads_ranges_lists_and_paragraphs(cell: str, articles: set[int]) -> None:
    assert _articles([cell]) == articles
