"""The SMTP/LMTP receiver of the public mailbox (aiosmtpd), run by ``manage.py run_mailbox``.

The provider's mail server forwards the contact address here (docs/operations.md). Each
accepted DATA is handed to ``store.receive`` in a worker thread (the ORM is synchronous);
the session answers ``250`` only once the message is stored and committed, and ``451`` on any
fault, so the forwarding server keeps the message and retries: nothing is lost. Messages
larger than ``MAILBOX_REFUSE_BYTES`` are refused in the session (552, aiosmtpd's data size
limit); those between ``MAILBOX_MAX_BYTES`` and that are stored and flagged ``too_large``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from django.conf import settings
from django.db import close_old_connections, connections

from . import store
from .authenticity import DnsFunc

log = logging.getLogger(__name__)


def _store(raw: bytes, envelope_from: str, envelope_to: list[str], peer: str, dnsfunc: DnsFunc | None) -> int:
    close_old_connections()
    try:
        return store.receive(raw=raw, envelope_from=envelope_from, envelope_to=envelope_to, peer=peer,
                             dnsfunc=dnsfunc).pk
    finally:
        connections.close_all()  # this worker thread's connection; the next message opens its own


class MailboxHandler:
    def __init__(self, *, dnsfunc: DnsFunc | None = None, addresses: list[str] | None = None) -> None:
        self.dnsfunc = dnsfunc
        self.addresses = {a.lower() for a in (settings.MAILBOX_ADDRESSES if addresses is None else addresses)}

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802 (aiosmtpd hook)
                          rcpt_options: list[str]) -> str:
        if self.addresses and address.lower() not in self.addresses:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        peer = session.peer[0] if isinstance(session.peer, tuple) and session.peer else str(session.peer or "")
        loop = asyncio.get_running_loop()
        try:
            message_id = await loop.run_in_executor(None, _store, raw, envelope.mail_from or "",
                                                    list(envelope.rcpt_tos), peer, self.dnsfunc)
        except Exception:
            log.exception("mailbox: message not stored; the sending server will retry")
            return "451 4.3.0 Message not stored, try again later"
        log.info("mailbox: stored inbound message %s", message_id)
        return f"250 2.0.0 Stored as {message_id}"


class MailboxController(Controller):
    """aiosmtpd's threaded controller, speaking SMTP or LMTP."""

    def __init__(self, handler: MailboxHandler, *, lmtp: bool = False, **kwargs: Any) -> None:
        self.lmtp = lmtp
        kwargs.setdefault("data_size_limit", settings.MAILBOX_REFUSE_BYTES)
        # original_content keeps the bytes exactly as received (DKIM and the hash depend on it).
        kwargs.setdefault("decode_data", False)
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        if self.lmtp:
            return LMTP(self.handler, **self.SMTP_kwargs)
        return super().factory()


def controller(*, host: str | None = None, port: int | None = None, mode: str | None = None,
               dnsfunc: DnsFunc | None = None) -> MailboxController:
    mode = (mode or settings.MAILBOX_MODE).lower()
    if mode not in {"smtp", "lmtp"}:
        raise ValueError(f"MAILBOX_MODE={mode!r}: only smtp and lmtp are built (imap polling is not)")
    return MailboxController(MailboxHandler(dnsfunc=dnsfunc), lmtp=mode == "lmtp",
                             hostname=host or settings.MAILBOX_LISTEN_HOST,
                             port=port or settings.MAILBOX_LISTEN_PORT, ready_timeout=10)
