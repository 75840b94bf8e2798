from django.core.management.base import BaseCommand

from requests_app.services.delivery import rotate_keys


class Command(BaseCommand):
    help = "Re-encrypt every stored response file with the newest RESPONSE_ENCRYPTION_KEYS key."

    def handle(self, *args, **opts):
        self.stdout.write(f"re-encrypted {rotate_keys()} files")
