import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.trail import make_anchor


class Command(BaseCommand):
    help = ("Print a signed anchor of the audit chain head (one JSON line). Append it to storage the "
            "database cannot write (docs/operations.md); `verify_audit --anchors FILE` checks them.")

    def handle(self, *args, **opts):
        if not settings.AUDIT_ANCHOR_KEY:
            raise CommandError("Set AUDIT_ANCHOR_KEY (kept off the database host) to sign anchors.")
        self.stdout.write(json.dumps(make_anchor(settings.AUDIT_ANCHOR_KEY), sort_keys=True))
