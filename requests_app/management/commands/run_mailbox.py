"""Run the public mailbox (Procfile ``mailbox``; docs/operations.md): the SMTP/LMTP receiver, or
with ``MAILBOX_SOURCE=imap`` the IMAP poller (``poll_mailbox``), so one Procfile line serves both."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
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
        source = settings.MAILBOX_SOURCE.lower()
        if source not in {"receiver", "imap"}:
            raise CommandError(f"MAILBOX_SOURCE={settings.MAILBOX_SOURCE!r}: receiver or imap.")
        mode = (options["mode"] or settings.MAILBOX_MODE).lower()
        if source == "imap" or mode == "imap":
            if source != "imap":
                raise CommandError("IMAP polling is chosen by MAILBOX_SOURCE=imap (MAILBOX_MODE is smtp or lmtp).")
            call_command("poll_mailbox", stdout=self.stdout)
            return
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
