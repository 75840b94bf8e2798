"""Poll the public mailbox over IMAP (``MAILBOX_SOURCE=imap``; ``requests_app/mailbox/imap.py``)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from requests_app.mailbox import imap

# One poller at a time (PostgreSQL session advisory lock): two would fetch the same unseen message.
LOCK_KEY = 0x4C52504D  # "LRPM"


class Command(BaseCommand):
    help = "Fetch unseen messages of MAILBOX_IMAP_FOLDER, store each in the inbox, then mark it seen."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="One round, then exit (cron, tests).")
        parser.add_argument("--interval", type=float, default=None,
                            help="Seconds between rounds (default MAILBOX_IMAP_INTERVAL_SECONDS).")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.MAILBOX_SOURCE.lower() != "imap":
            raise CommandError(f"MAILBOX_SOURCE={settings.MAILBOX_SOURCE!r}: IMAP polling runs only with "
                               "MAILBOX_SOURCE=imap (the receiver is run_mailbox).")
        if not settings.MAILBOX_IMAP_HOST:
            raise CommandError("MAILBOX_SOURCE=imap needs MAILBOX_IMAP_HOST (and MAILBOX_IMAP_USER/PASSWORD).")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
                if not cursor.fetchone()[0]:
                    raise CommandError("Another IMAP poller is running.")
        if options["once"]:
            result = imap.poll_once()
            self.stdout.write(f"mailbox imap: stored {result.stored}, already stored {result.duplicates}, "
                              f"failed {result.failed}")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(f"mailbox: polling {settings.MAILBOX_IMAP_HOST} {settings.MAILBOX_IMAP_FOLDER}")
        self.stdout.flush()
        imap.run(interval=options["interval"], stop=stop)
