from django.core.management.base import BaseCommand, CommandError

from requests_app.audit import verify_chain
from requests_app.models import AuditChainHead


class Command(BaseCommand):
    help = "Verify the audit hash chain; exit non-zero naming the first broken link."

    def handle(self, *args, **opts):
        broken = verify_chain()
        if broken is not None:
            raise CommandError(str(broken))
        head = AuditChainHead.objects.filter(pk=1).first()
        seq, digest = (head.seq, head.hash) if head else (0, "0" * 64)
        self.stdout.write(f"audit chain intact: {seq} events, head {digest}")
