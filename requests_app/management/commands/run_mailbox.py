"""Run the public mailbox receiver (Procfile ``mailbox``; docs/operations.md)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from requests_app.mailbox.receiver import controller


class Command(BaseCommand):
    help = "Receive mail for the public contact address over SMTP or LMTP (MAILBOX_MODE) and store it in the inbox."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=None, help="Listen address (default MAILBOX_LISTEN_HOST).")
        parser.add_argument("--port", type=int, default=None, help="Listen port (default MAILBOX_LISTEN_PORT).")
        parser.add_argument("--mode", default=None, choices=["smtp", "lmtp", "imap"],
                            help="Default MAILBOX_MODE.")

    def handle(self, *args: Any, **options: Any) -> None:
        mode = (options["mode"] or settings.MAILBOX_MODE).lower()
        if mode == "imap":
            raise CommandError("MAILBOX_MODE=imap: IMAP polling is not built yet; forward the contact address "
                               "to the SMTP/LMTP receiver instead (docs/operations.md).")
        try:
            server = controller(host=options["host"], port=options["port"], mode=mode)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        server.start()
        self.stdout.write(f"mailbox: {mode} receiver on {server.hostname}:{server.port}", ending="\n")
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            server.stop()
