from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from requests_app.mailbox import store as mailbox_store
from requests_app.services.attachments import rotate_original_keys
from requests_app.services.delivery import rotate_keys


class Command(BaseCommand):
    help = ("Re-encrypt every stored response file, uploaded original and inbound raw message with the newest "
            "RESPONSE_ENCRYPTION_KEYS key.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--from-secret-key", action="store_true",
            help="Also decrypt files encrypted with the key derived from SECRET_KEY (migration to real keys).",
        )

    def handle(self, *args, **opts):
        if opts["from_secret_key"] and not settings.RESPONSE_ENCRYPTION_KEYS:
            raise CommandError("Set RESPONSE_ENCRYPTION_KEYS first: the files are re-encrypted with its first key.")
        files = rotate_keys(from_secret_key=opts["from_secret_key"])
        originals = rotate_original_keys(from_secret_key=opts["from_secret_key"])
        mails = mailbox_store.rotate_keys(from_secret_key=opts["from_secret_key"])
        self.stdout.write(f"re-encrypted {files} files, {originals} uploaded originals and {mails} inbound messages")
