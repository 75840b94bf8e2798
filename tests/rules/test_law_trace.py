"""docs/law.md traces every finding code to the law, and names only codes and tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

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
