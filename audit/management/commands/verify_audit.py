import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.trail import check_anchor, verify


class Command(BaseCommand):
    help = ("Verify every audit hash chain, the chain heads and the seal chain (and optionally external "
            "anchors); exit non-zero naming the first broken link.")

    def add_arguments(self, parser):
        parser.add_argument("--anchors", help="a file of anchors written by `manage.py audit_anchor` (JSON lines)")

    def handle(self, *args, **opts):
        broken, summary = verify()
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
        self.stdout.write(f"audit chain intact: {summary.events} events in {summary.chains} chains, "
                          f"{summary.seals} seals, last seal {summary.last_seal_hash}")
