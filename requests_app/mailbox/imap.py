"""IMAP polling: the alternative source of the public mailbox (``MAILBOX_SOURCE=imap``; issue 12 item 3).

Where the provider's mail is hosted elsewhere and cannot be forwarded to the SMTP/LMTP
receiver, ``manage.py poll_mailbox`` (or ``run_mailbox``, which dispatches on
``MAILBOX_SOURCE``, so the Procfile's ``mailbox`` line serves both) polls one folder with the
standard library's ``imaplib``. Each round:

1. ``UID SEARCH UNSEEN``, oldest first, at most ``MAILBOX_IMAP_BATCH`` messages;
2. ``UID FETCH <uid> (BODY.PEEK[])`` — PEEK, so fetching never sets ``\\Seen``;
3. the raw bytes go to ``store.receive_once`` (the same ``store.receive`` as the SMTP
   receiver, after a lookup by SHA-256 of the exact bytes);
4. only once that returned — the row, its attachments and audit event committed — ``UID STORE
   <uid> +FLAGS (\\Seen)``.

Nothing is lost: a message whose storing fails stays unseen and is fetched again next round;
a crash between the commit and the ``STORE`` leaves it unseen too, and the next round finds
its SHA-256 already stored and only marks it seen (no second row, no second alert or
acknowledgement). Deduplication is by SHA-256 of the raw bytes, never by Message-ID alone:
anyone can send a message with someone else's Message-ID, and it must not hide the real one.

There is no SMTP envelope over IMAP: the envelope sender is the ``Return-Path`` the final
MTA wrote (``<>`` stays the null sender, so loop protection still applies), else the From
address; the recipients are ``Delivered-To`` / ``X-Original-To``, else ``MAILBOX_ADDRESSES``.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import getaddresses
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from . import store

log = logging.getLogger(__name__)

Connect = Callable[[], Any]  # returns a logged-in imaplib.IMAP4 (or an object speaking the same methods)


class ImapError(Exception):
    """The IMAP server answered something other than OK."""


@dataclass
class PollResult:
    stored: int = 0
    duplicates: int = 0
    failed: int = 0

    @property
    def seen(self) -> int:
        return self.stored + self.duplicates


def connect_from_settings() -> Any:
    """A logged-in IMAP4(_SSL) connection to ``MAILBOX_IMAP_HOST``."""
    if not settings.MAILBOX_IMAP_HOST:
        raise ImapError("MAILBOX_IMAP_HOST is not set")
    cls = imaplib.IMAP4_SSL if settings.MAILBOX_IMAP_SSL else imaplib.IMAP4
    conn = cls(settings.MAILBOX_IMAP_HOST, settings.MAILBOX_IMAP_PORT, timeout=60)
    conn.login(settings.MAILBOX_IMAP_USER, settings.MAILBOX_IMAP_PASSWORD)
    return conn


def _ok(response: tuple[str, Any], what: str) -> Any:
    typ, data = response
    if typ != "OK":
        raise ImapError(f"{what}: {typ} {data!r}")
    return data


def _raw_of(data: Any) -> bytes | None:
    """The message bytes of a FETCH answer: ``[(b'1 (UID 7 BODY[] {123}', b'...'), b')']``."""
    for item in data or []:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def envelope_of(raw: bytes) -> tuple[str, list[str]]:
    """(envelope sender, recipients) from the headers the delivering MTA wrote."""
    try:
        headers = email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0] + b"\r\n\r\n",
                                           policy=email.policy.compat32)
    except Exception:
        return "", list(settings.MAILBOX_ADDRESSES)
    return_path = str(headers.get("Return-Path") or "").strip()
    if return_path:
        sender = return_path.strip("<> \t")
    else:
        addresses = [a for _, a in getaddresses([str(v) for v in headers.get_all("From") or []]) if a]
        sender = addresses[0] if addresses else ""
    recipients = [a for _, a in getaddresses([str(v) for v in (headers.get_all("Delivered-To") or [])
                                              + (headers.get_all("X-Original-To") or [])]) if a]
    return sender[:320], (recipients or list(settings.MAILBOX_ADDRESSES))[:50]


UID_RE = re.compile(rb"^\d+$")


def poll_once(connect: Connect | None = None, *, folder: str | None = None, batch: int | None = None) -> PollResult:
    """One round (module docstring). The connection is opened and closed here."""
    folder = folder or settings.MAILBOX_IMAP_FOLDER
    batch = batch or settings.MAILBOX_IMAP_BATCH
    result = PollResult()
    conn = (connect or connect_from_settings)()
    try:
        _ok(conn.select(folder), f"SELECT {folder}")
        found = _ok(conn.uid("SEARCH", None, "UNSEEN"), "UID SEARCH UNSEEN")
        uids = sorted({u for u in b" ".join(x for x in found if x).split() if UID_RE.match(u)}, key=int)[:batch]
        peer = f"imap:{settings.MAILBOX_IMAP_HOST or 'injected'}"[:64]
        for uid in uids:
            label = uid.decode()
            try:
                raw = _raw_of(_ok(conn.uid("FETCH", label, "(BODY.PEEK[])"), f"UID FETCH {label}"))
                if raw is None:
                    raise ImapError(f"UID FETCH {label}: no message body in the answer")
                close_old_connections()
                sender, recipients = envelope_of(raw)
                message, created = store.receive_once(raw=raw, envelope_from=sender, envelope_to=recipients,
                                                      peer=peer)
            except ImapError:
                raise  # the connection is in doubt: end the round, nothing marked seen
            except Exception:
                log.exception("mailbox imap: message uid %s not stored; it stays unseen for the next round", label)
                result.failed += 1
                continue
            # Only now, with the row committed, may the server forget that we have not read it.
            _ok(conn.uid("STORE", label, "+FLAGS", "(\\Seen)"), f"UID STORE {label}")
            if created:
                result.stored += 1
                log.info("mailbox imap: uid %s stored as inbound message %s", label, message.pk)
            else:
                result.duplicates += 1
                log.info("mailbox imap: uid %s was already stored as %s; marked seen", label, message.pk)
    finally:
        try:
            conn.logout()
        except Exception:  # a dead connection cannot log out; the next round opens a new one
            log.debug("mailbox imap: logout failed", exc_info=True)
    return result


def run(connect: Connect | None = None, *, interval: float | None = None, stop: Any = None,
        rounds: int | None = None) -> None:
    """Poll forever (or ``rounds`` times) every ``MAILBOX_IMAP_INTERVAL_SECONDS``; a failed round is
    logged and retried next time. ``stop`` is a ``threading.Event`` (SIGTERM sets it)."""
    interval = settings.MAILBOX_IMAP_INTERVAL_SECONDS if interval is None else interval
    done = 0
    while stop is None or not stop.is_set():
        try:
            result = poll_once(connect)
            if result.seen or result.failed:
                log.info("mailbox imap: round stored=%s duplicates=%s failed=%s", result.stored, result.duplicates,
                         result.failed)
        except Exception:
            log.exception("mailbox imap: round failed; retrying in %s s", interval)
        done += 1
        if rounds is not None and done >= rounds:
            return
        if stop is not None:
            stop.wait(interval)
        else:
            time.sleep(interval)
