"""The transparency facts on the embedded default's SQLite (``make run``): migrate creates SQLite
versions of migration 0025's triggers, row triggers of their own text, which the PostgreSQL
suite never executes. This runs test_transparency_facts.py in a child pytest on a fresh SQLite
database migrated from zero: every journey there (acknowledged, produced, withdrawn, preserved,
extended then released, targets added and removed, a stale full save, the backfill, the check
finding a difference, the installed trigger's state lists) asserts that the stored facts equal
what ``reports.stored_facts_mismatches`` derives from the audit trail, or that it finds the
planted difference.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[3]
FACTS_TESTS = "tests/requests_app/review/test_transparency_facts.py"


@pytest.mark.skipif(connection.vendor == "sqlite", reason="this run is on SQLite already: the facts tests run here")
def test_the_facts_tests_pass_on_a_fresh_sqlite_database(tmp_path):
    # The child's own database and files; PYTEST_* (xdist's worker id) would confuse its session.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}", PORTAL_VAR_DIR=str(tmp_path / "var"))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             FACTS_TESTS], cwd=REPO, env=env, capture_output=True, text=True, timeout=280)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    collected = sum(1 for line in Path(REPO, FACTS_TESTS).read_text().splitlines() if line.startswith("def test_"))
    assert re.search(rf"\b{collected} passed\b", output), output[-2000:]
    assert "sqlite" in subprocess.run(
        [sys.executable, "-c", "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'portal.settings');"
         "django.setup(); from django.db import connection; print(connection.vendor)"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60).stdout
