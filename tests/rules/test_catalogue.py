"""The catalogue, the output contract and the engine's purity."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from requests_app.rules import CATALOGUE, evaluate
from requests_app.rules import vocab as v
from requests_app.rules.catalogue import CLARIFY, INFO, REFUSE, REROUTE, REVIEW

from .builders import IP, facts

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "requests_app" / "rules"
ANNEX_REASONS = {value for name, value in vars(v).items() if name.startswith("AIII_")}


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_is_cited_and_tagged(code: str) -> None:
    spec = CATALOGUE[code]
    assert spec.kind in {REROUTE, REFUSE, CLARIFY, REVIEW, INFO}
    assert spec.legal_basis.strip()
    assert all(tag in {"[V]", "[S]", "[M]", "[P]", "[A]"} for tag in spec.status.split("/"))
    assert spec.annex_iii_reason is None or spec.annex_iii_reason in ANNEX_REASONS
    assert code == code.upper()


def test_docs_list_every_code() -> None:
    docs = (ROOT / "docs" / "rules.md").read_text()
    missing = [code for code in CATALOGUE if f"`{code}`" not in docs]
    assert not missing, missing
    assert v.RULEBOOK_VERSION in docs


def test_to_dict_is_json() -> None:
    decision = evaluate(
        facts(
            categories=("identification", "content"),
            targets=(IP,),
            enforcing_authority_notified=True,
        )
    )
    data = json.loads(json.dumps(decision.to_dict()))
    assert data["route"] == "accepted"
    assert data["due_at"] == decision.deadlines[0].due_at.isoformat()
    assert {f["code"] for f in data["findings"]} >= {"EE_EA_NOTIFIED_SUSPENSIVE"}
    assert set(data["findings"][0]) >= {
        "code",
        "severity",
        "data_category",
        "legal_basis",
        "message",
        "message_params",
        "annex_iii_reason",
        "field",
    }


def test_the_engine_imports_no_django() -> None:
    code = (
        "import sys, requests_app.rules; "
        "sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_the_engine_never_reads_the_clock(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            assert node.attr not in {"now", "today", "utcnow"}, f"{path.name}:{node.lineno}"
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in {"django", "time"}, path.name
        if isinstance(node, ast.Import):
            assert all(a.name.split(".")[0] not in {"django", "time"} for a in node.names)
