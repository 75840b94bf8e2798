import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditChainHead
from audit.trail import check_anchor, verify_chain


class Command(BaseCommand):
    help = "Verify the audit hash chain (and optionally external anchors); exit non-zero naming the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("--anchors", help="a file of anchors written by `manage.py audit_anchor` (JSON lines)")

    def handle(self, *args, **opts):
        broken = verify_chain()
        if broken is not None:
            raise CommandError(str(broken))
        if opts["anchors"]:
            key = settings.AUDIT_ANCHOR_KEY
            if not key:
                raise CommandError("AUDIT_ANCHOR_KEY is not set: anchors cannot be checked.")
            lines = [json.loads(line) for line in Path(opts["anchors"]).read_text().splitlines() if line.strip()]
            for anchor in lines:
                problem = check_anchor(anchor, key)
                if problem:
                    raise CommandError(problem)
            self.stdout.write(f"{len(lines)} external anchors match the chain")
        head = AuditChainHead.objects.filter(pk=1).first()
        seq, digest = (head.seq, head.hash) if head else (0, "0" * 64)
        self.stdout.write(f"audit chain intact: {seq} events, head {digest}")
