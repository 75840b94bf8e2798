"""Receiving one message into the inbox (issue 12 items 3, 4).

``receive`` is the one service every receiver calls (the SMTP/LMTP handler; the IMAP poller
through ``receive_once``, which first looks the exact bytes up by SHA-256). In order:

1. The raw bytes are written encrypted (``requests_app.crypto``) to the private storage
   root and fsynced *before* anything else: whatever fails afterwards, the evidence exists.
   Its SHA-256 and size are of the bytes as received.
2. The message is parsed with the standard ``email`` package. A message that does not parse,
   or parses with defects, is kept and flagged ``malformed``, never dropped.
3. Each attachment goes through the portal's PDF checks (``uploads.check_upload``, in its sandbox); a rejected
   one is recorded with its code and the message flagged; beyond ``MAILBOX_MAX_ATTACHMENTS``
   they are recorded unchecked. A message above ``MAILBOX_MAX_BYTES`` is flagged ``too_large``
   and its attachments are not opened.
4. Authenticity (``authenticity.assess``), the matching authority, loops (auto-replies,
   bounces) and floods (per-sender rate) become columns and flags.
5. One transaction stores the row, its attachments and the audit event ``mailbox.received``,
   queues the on-call alert when the message claims an emergency (whatever DKIM says) and the
   acknowledgement when it may be sent (``ack_decision``).

If the transaction fails the file is removed and the error propagates: the receiver answers
a temporary failure (451) and the sending server retries, so nothing is lost.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Authority, VettingStatus
from audit import trail as audit
from outbox import relay as outbox

from .. import crypto
from ..models import AckStatus, InboundAttachment, InboundMessage
from ..uploads import UploadRejected, check_upload
from .authenticity import Authenticity, DnsFunc, assess

# Stable flag codes and what they mean (shown in the inbox).
FLAGS: dict[str, str] = {
    "malformed": "The message could not be parsed cleanly; it is kept as received.",
    "too_large": "Larger than MAILBOX_MAX_BYTES: stored, attachments not opened.",
    "too_many_attachments": "More attachments than MAILBOX_MAX_ATTACHMENTS: the extra ones were not checked.",
    "attachment_rejected": "At least one attachment failed the PDF checks.",
    "from_missing": "No usable From address.",
    "from_multiple": "Several From headers or addresses (a forged sender is likely).",
    "dmarc_fail": "The receiving server reports DMARC fail: the From domain is forged or misconfigured.",
    "unauthenticated": "The From domain is not authenticated (no DMARC pass, no aligned DKIM pass).",
    "auth_results_missing": "No Authentication-Results of the trusted receiving server.",
    "auth_results_forged": "An Authentication-Results header claims the trusted server but was not written by it.",
    "unknown_domain": "The From domain belongs to no registered authority.",
    "authority_not_verified": "The From domain belongs to an authority that is not verified.",
    "auto_reply": "An auto-reply or bounce (Auto-Submitted, Precedence, null sender, mailer-daemon).",
    "rate_limited": "The sender exceeded MAILBOX_RATE_LIMIT messages within MAILBOX_RATE_WINDOW.",
    "emergency": "The message claims an emergency: the on-call alert went out.",
}

# Words that claim an emergency, en/fr/de, matched on whole words of the subject and the text
# body, case- and accent-insensitively (MAILBOX_EMERGENCY_KEYWORDS replaces the list).
EMERGENCY_KEYWORDS: tuple[str, ...] = (
    "emergency", "urgent", "imminent", "threat to life", "life-threatening", "danger to life", "kidnapping",
    "urgence", "danger de mort", "menace imminente", "peril imminent", "enlevement",
    "notfall", "dringend", "eilt", "eilig", "lebensgefahr", "gefahr im verzug", "entfuhrung",
)

MAX_TEXT_SCANNED = 200_000


@dataclass
class Parsed:
    message: Message | None = None
    from_address: str = ""
    from_domain: str = ""
    subject: str = ""
    message_id: str = ""
    text: str = ""
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)  # (filename, type, bytes)
    flags: set[str] = field(default_factory=set)


def storage_path(stored_name: str) -> Path:
    return Path(settings.PRIVATE_STORAGE_ROOT) / "mailbox" / stored_name[:2] / stored_name


def _write_encrypted(raw: bytes) -> str:
    stored_name = uuid.uuid4().hex
    crypto.write_encrypted(storage_path(stored_name), raw)
    return stored_name


def read_raw(message: InboundMessage) -> bytes:
    """The raw message as received; raises ValueError if the stored copy no longer matches its hash."""
    raw = crypto.decrypt(storage_path(message.stored_name).read_bytes())
    if hashlib.sha256(raw).hexdigest() != message.raw_sha256:
        raise ValueError(f"inbound message {message.pk}: stored copy does not match its SHA-256")
    return raw


def rotate_keys(*, from_secret_key: bool = False) -> int:
    """Re-encrypt every stored raw message with the newest key (``manage.py rotate_response_keys``)."""
    names = InboundMessage.objects.values_list("stored_name", flat=True).iterator()
    return crypto.rotate_files((storage_path(n) for n in names), accept_derived=from_secret_key)


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def parse(raw: bytes, *, too_large: bool) -> Parsed:
    parsed = Parsed()
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:
        parsed.flags.add("malformed")
        return parsed
    parsed.message = message
    if message.defects or not raw.strip() or not list(message.keys()):
        parsed.flags.add("malformed")
    parsed.subject = _header(message, "Subject")[:500]
    parsed.message_id = _header(message, "Message-ID")[:500]
    try:
        from_values = [str(v) for v in (message.get_all("From") or [])]
    except Exception:
        from_values = []
        parsed.flags.add("malformed")
    addresses = [a for _, a in getaddresses(from_values) if a]
    if not addresses:
        parsed.flags.add("from_missing")
    elif len(from_values) > 1 or len(addresses) > 1:
        parsed.flags.add("from_multiple")
    if addresses and "@" in addresses[0]:
        parsed.from_address = addresses[0].strip().lower()[:320]
        parsed.from_domain = parsed.from_address.rsplit("@", 1)[1].strip(".")[:255]
    elif addresses:
        parsed.flags.add("from_missing")
    try:
        _read_parts(message, parsed, too_large=too_large)
    except Exception:
        parsed.flags.add("malformed")
    return parsed


def _read_parts(message: Message, parsed: Parsed, *, too_large: bool) -> None:
    texts: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if filename or disposition == "attachment":
            if too_large:
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            parsed.attachments.append((_safe_name(filename or ""), part.get_content_type()[:255], data))
        elif part.get_content_type() == "text/plain" and sum(map(len, texts)) < MAX_TEXT_SCANNED:
            try:
                texts.append(str(part.get_content())[:MAX_TEXT_SCANNED])  # type: ignore[attr-defined]
            except Exception:
                parsed.flags.add("malformed")
    parsed.text = "\n".join(texts)


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).replace("\x00", "")
    return "".join(c for c in base if c.isprintable())[:255]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def claims_emergency(subject: str, text: str) -> bool:
    keywords = getattr(settings, "MAILBOX_EMERGENCY_KEYWORDS", None) or EMERGENCY_KEYWORDS
    haystack = _fold(f"{subject}\n{text}")
    return any(re.search(rf"(?<!\w){re.escape(_fold(k))}(?!\w)", haystack) for k in keywords)


def is_auto_reply(message: Message | None, envelope_from: str, from_address: str) -> bool:
    """RFC 3834 loop protection: never answer automatic mail."""
    if not envelope_from.strip("<> "):
        return True  # the null sender: bounces and DSNs
    local = (envelope_from or from_address).rsplit("@", 1)[0].lower()
    if local in {"mailer-daemon", "postmaster"} or from_address.split("@")[0] in {"mailer-daemon", "postmaster"}:
        return True
    if message is None:
        return False
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if _header(message, "Precedence").lower() in {"bulk", "junk", "list"}:
        return True
    if _header(message, "Return-Path").replace(" ", "") == "<>":
        return True
    if message.get_content_type() == "multipart/report":
        return True
    return any(_header(message, h) for h in ("X-Autoreply", "X-Autorespond", "List-Id"))


def match_authority(domain: str) -> Authority | None:
    if not domain:
        return None
    qs = Authority.objects.order_by("-vetting_status", "pk")
    if connection.features.supports_json_field_contains:
        return qs.filter(email_domains__contains=[domain]).first()
    return next((a for a in qs if domain in {d.lower() for d in a.email_domains}), None)


def ack_decision(*, flags: set[str], from_address: str, auth: Authenticity) -> tuple[str, str]:
    """(status, reason) of the automatic acknowledgement. Sent only to an authenticated sender."""
    own = {a.lower() for a in settings.MAILBOX_ADDRESSES}
    for flag, reason in (("from_missing", "no_sender"), ("from_multiple", "forged_from"),
                         ("auto_reply", "auto_reply"), ("rate_limited", "rate_limited"),
                         ("dmarc_fail", "dmarc_fail")):
        if flag in flags:
            return AckStatus.SKIPPED, reason
    if not from_address or from_address in own:
        return AckStatus.SKIPPED, "own_address" if from_address else "no_sender"
    if not auth.from_authenticated:
        return AckStatus.SKIPPED, "unauthenticated"
    return AckStatus.QUEUED, ""


def _rate_limited(sender: str, now: datetime) -> bool:
    if not sender:
        return False
    since = now - settings.MAILBOX_RATE_WINDOW
    recent = InboundMessage.objects.filter(from_address=sender, received_at__gte=since).count()
    return recent >= settings.MAILBOX_RATE_LIMIT


def receive(*, raw: bytes, envelope_from: str = "", envelope_to: list[str] | None = None, peer: str = "",
            dnsfunc: DnsFunc | None = None) -> InboundMessage:
    """Store one received message as evidence and act on it (module docstring)."""
    if not isinstance(raw, bytes):
        raise TypeError("receive() expects the raw message as bytes")
    now = timezone.now()
    size = len(raw)
    sha256 = hashlib.sha256(raw).hexdigest()
    stored_name = _write_encrypted(raw)
    try:
        return _receive(raw=raw, size=size, sha256=sha256, stored_name=stored_name, now=now,
                        envelope_from=envelope_from, envelope_to=envelope_to or [], peer=peer, dnsfunc=dnsfunc)
    except Exception:
        storage_path(stored_name).unlink(missing_ok=True)
        raise


def receive_once(*, raw: bytes, envelope_from: str = "", envelope_to: list[str] | None = None, peer: str = "",
                 dnsfunc: DnsFunc | None = None) -> tuple[InboundMessage, bool]:
    """``receive`` for a source that may deliver the same message again (the IMAP poller after a
    crash between our commit and its ``\\Seen`` flag): the exact bytes already stored (same
    SHA-256) return that row, ``(message, False)``. Never by Message-ID alone, which anyone can copy."""
    if not isinstance(raw, bytes):
        raise TypeError("receive_once() expects the raw message as bytes")
    existing = InboundMessage.objects.filter(raw_sha256=hashlib.sha256(raw).hexdigest()).order_by("pk").first()
    if existing is not None:
        return existing, False
    return receive(raw=raw, envelope_from=envelope_from, envelope_to=envelope_to, peer=peer, dnsfunc=dnsfunc), True


def _receive(*, raw: bytes, size: int, sha256: str, stored_name: str, now: datetime, envelope_from: str,
             envelope_to: list[str], peer: str, dnsfunc: DnsFunc | None) -> InboundMessage:
    too_large = size > settings.MAILBOX_MAX_BYTES
    parsed = parse(raw, too_large=too_large)
    flags = set(parsed.flags)
    if too_large:
        flags.add("too_large")

    auth = Authenticity()
    if parsed.message is not None and not too_large:
        auth = assess(raw, parsed.message, parsed.from_domain, authserv_id=settings.MAILBOX_AUTHSERV_ID,
                      dnsfunc=dnsfunc)
    elif parsed.message is not None:
        auth = Authenticity(results=assess(b"", parsed.message, parsed.from_domain,
                                           authserv_id=settings.MAILBOX_AUTHSERV_ID).results)
    if settings.MAILBOX_AUTHSERV_ID and not auth.results.trusted:
        flags.add("auth_results_missing")
    if auth.results.forged:
        flags.add("auth_results_forged")
    if auth.results.dmarc == "fail":
        flags.add("dmarc_fail")
    if not auth.from_authenticated:
        flags.add("unauthenticated")

    authority = match_authority(parsed.from_domain)
    if parsed.from_domain and authority is None:
        flags.add("unknown_domain")
    elif authority is not None and authority.vetting_status != VettingStatus.VERIFIED:
        flags.add("authority_not_verified")
    authority_verified = bool(authority and authority.vetting_status == VettingStatus.VERIFIED
                              and auth.from_authenticated and not flags & {"from_multiple", "from_missing"})

    if is_auto_reply(parsed.message, envelope_from, parsed.from_address):
        flags.add("auto_reply")
    emergency = claims_emergency(parsed.subject, parsed.text)
    if emergency:
        flags.add("emergency")

    rows = _attachments(parsed, flags)

    with transaction.atomic():
        sender_key = parsed.from_address or envelope_from.lower()
        if _rate_limited(sender_key, now):
            flags.add("rate_limited")
        ack_status, ack_reason = ack_decision(flags=flags, from_address=parsed.from_address, auth=auth)
        message = InboundMessage.objects.create(
            received_at=now, envelope_from=envelope_from[:320], envelope_to=[a[:320] for a in envelope_to][:50],
            peer=peer[:64], raw_sha256=sha256, raw_size=size, stored_name=stored_name,
            message_id=parsed.message_id, from_address=sender_key[:320], from_domain=parsed.from_domain,
            subject=parsed.subject, dkim=[v.as_dict() for v in auth.dkim], dkim_aligned_pass=auth.dkim_aligned_pass,
            auth_results_trusted=auth.results.trusted, spf=auth.results.spf, dmarc=auth.results.dmarc,
            arc=auth.results.arc, authority=authority, authority_verified=authority_verified, emergency=emergency,
            flags=sorted(flags), ack_status=ack_status, ack_reason=ack_reason,
        )
        for row in rows:
            row.message = message
        InboundAttachment.objects.bulk_create(rows)
        audit.record("mailbox.received", obj=message, authority_id=authority.pk if authority else None, data={
            "sha256": sha256, "size": size, "flags": sorted(flags),
            "dkim": [[v.domain, v.result] for v in auth.dkim], "spf": auth.results.spf, "dmarc": auth.results.dmarc,
            "arc": auth.results.arc, "authority_verified": authority_verified, "ack": ack_status or ack_reason,
        })
        if emergency:
            _alert_emergency(message, sender_key, now, rate_limited="rate_limited" in flags)
        if ack_status == AckStatus.QUEUED:
            outbox.enqueue("notify.mailbox_ack", payload={"address": parsed.from_address,
                                                         "inbound_message_id": message.pk},
                           dedup_key=f"mailbox-ack:{message.pk}")
    return message


def _alert_emergency(message: InboundMessage, sender: str, now: datetime, *, rate_limited: bool) -> None:
    """The on-call alert, at once and whatever DKIM says. A flooding sender alerts once per window."""
    if rate_limited:
        window = int(now.timestamp() // settings.MAILBOX_RATE_WINDOW.total_seconds())
        key = f"mailbox-emergency:{hashlib.sha256(sender.encode()).hexdigest()[:32]}:{window}"
        if outbox.OutboxMessage.objects.filter(dedup_key=key).exists():
            return
    else:
        key = f"mailbox-emergency:{message.pk}"
    outbox.enqueue("alert.emergency", payload={"inbound_message_id": message.pk}, dedup_key=key)
    audit.record("mailbox.emergency_alerted", obj=message, data={"inbound_message_id": message.pk})


def _attachments(parsed: Parsed, flags: set[str]) -> list[InboundAttachment]:
    rows = []
    limit = settings.MAILBOX_MAX_ATTACHMENTS
    if len(parsed.attachments) > limit:
        flags.add("too_many_attachments")
    for position, (filename, content_type, data) in enumerate(parsed.attachments, start=1):
        row = InboundAttachment(position=position, filename=filename, content_type=content_type, size=len(data),
                                sha256=hashlib.sha256(data).hexdigest())
        if position > limit:
            row.rejection_code = "not_checked"
        else:
            try:
                inspected = check_upload(data, max_bytes=settings.UPLOAD_MAX_BYTES)
            except UploadRejected as rejected:
                row.rejection_code = rejected.code
                flags.add("attachment_rejected")
            except Exception:  # a check that crashes must not lose the message
                row.rejection_code = "malformed_pdf"
                flags.add("attachment_rejected")
            else:
                row.accepted, row.page_count = True, inspected.page_count
        rows.append(row)
    return rows


def describe(flags: list[str]) -> list[tuple[str, str]]:
    return [(code, FLAGS.get(code, code)) for code in flags]


__all__: list[Any] = ["FLAGS", "ack_decision", "claims_emergency", "describe", "parse", "read_raw", "receive",
                      "receive_once"]
