"""Write docs/workflow.md from the transition tables, so the document cannot drift."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from requests_app.workflow import render_markdown


class Command(BaseCommand):
    help = "Regenerate docs/workflow.md (Mermaid state diagrams) from requests_app.workflow.TRANSITIONS."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")

    def handle(self, *args, **opts):
        path = Path(settings.BASE_DIR) / "docs" / "workflow.md"
        content = render_markdown()
        if opts["check"]:
            if not path.exists() or path.read_text() != content:
                self.stderr.write("docs/workflow.md is out of date: run manage.py workflow_docs")
                raise SystemExit(1)
            self.stdout.write("docs/workflow.md is up to date")
            return
        path.write_text(content)
        self.stdout.write(f"wrote {path}")
