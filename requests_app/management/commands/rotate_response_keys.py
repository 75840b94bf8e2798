from django.core.management.base import BaseCommand

from requests_app.services.attachments import rotate_original_keys
from requests_app.services.delivery import rotate_keys


class Command(BaseCommand):
    help = ("Re-encrypt every stored response file and every uploaded original with the newest "
            "RESPONSE_ENCRYPTION_KEYS key.")

    def handle(self, *args, **opts):
        self.stdout.write(f"re-encrypted {rotate_keys()} files")
        self.stdout.write(f"re-encrypted {rotate_original_keys()} uploaded originals")
