from django.core.management.base import BaseCommand

from requests_app.services.deadlines import recompute_stale


class Command(BaseCommand):
    help = "Recompute the deadlines of open requests decided under another provider configuration."

    def handle(self, *args, **opts):
        self.stdout.write(f"recomputed {recompute_stale()} open requests")
