"""docs/workflow.md is generated from the transition tables and must not drift."""

from pathlib import Path

from django.conf import settings

from requests_app.workflow import TRANSITIONS, render_markdown


def test_workflow_doc_matches_the_tables():
    path = Path(settings.BASE_DIR) / "docs" / "workflow.md"
    assert path.read_text() == render_markdown(), "run: manage.py workflow_docs"


def test_every_allowed_move_is_drawn():
    doc = render_markdown()
    for table in TRANSITIONS.values():
        for state, targets in table.items():
            for target in targets - {"withdrawn"}:
                assert f"    {state} --> {target}" in doc
