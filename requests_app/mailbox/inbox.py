"""What the legal team does with an inbound message (the admin inbox calls these).

Each action is one service: it locks the row, refuses a message that was already handled
(``InvalidState``, nothing changed), records who and when, and writes one audit event.
Turning a message into a request goes through the one intake, ``request_submit``, with
channel ``email``, the message's receipt time and its accepted PDF attachments.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import trail as audit

from ..models import InboundMessage, InboundStatus, LegalRequest
from ..permissions import can
from ..services.errors import InvalidState, ServiceError


def _claim(actor: Any, message_id: int) -> InboundMessage:
    if not can(actor, "review"):
        raise ServiceError("Only the legal team handles the inbox.", code="permission_denied")
    message = InboundMessage.objects.select_for_update().get(pk=message_id)
    if message.status != InboundStatus.NEW:
        raise InvalidState(f"This message was already handled ({message.get_status_display()}).")
    return message


def inbound_link(*, actor: Any, message: InboundMessage, request: LegalRequest,
                 ip_address: str | None = None) -> InboundMessage:
    """Attach the message to an existing request (a follow-up, a copy, a reminder)."""
    with transaction.atomic():
        row = _claim(actor, message.pk)
        row.status, row.request = InboundStatus.LINKED, request
        row.handled_by, row.handled_at = actor, timezone.now()
        row.save(update_fields=["status", "request", "handled_by", "handled_at"])
        audit.record("mailbox.linked", actor=actor, request=request, obj=row, ip_address=ip_address,
                     data={"inbound_message_id": row.pk, "raw_sha256": row.raw_sha256})
    return row


def inbound_close(*, actor: Any, message: InboundMessage, reason: str,
                  ip_address: str | None = None) -> InboundMessage:
    """Close the message with a reason (spam, forged sender, not a request...). It stays as evidence."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("A reason is required to close a message.", fields={"reason": ["required"]})
    if len(reason) > 2000:
        raise ServiceError("The reason is longer than 2000 characters.", fields={"reason": ["too_long"]})
    with transaction.atomic():
        row = _claim(actor, message.pk)
        row.status, row.close_reason = InboundStatus.CLOSED, reason
        row.handled_by, row.handled_at = actor, timezone.now()
        row.save(update_fields=["status", "close_reason", "handled_by", "handled_at"])
        audit.record("mailbox.closed", actor=actor, obj=row, ip_address=ip_address,
                     data={"inbound_message_id": row.pk, "reason": reason})
    return row


def inbound_convert(*, actor: Any, message: InboundMessage, data: dict[str, Any],
                    ip_address: str | None = None) -> LegalRequest:
    """Register the request the message carries (``data``: the contract's body, validated).

    The authority is the one the From domain belongs to, and it must be verified (register
    and vet it first otherwise). The deadlines run from the message's receipt time. A message
    that claimed an emergency makes an emergency request, whatever the legal team typed and
    whatever DKIM said: it is then held for the call-back like any emergency.
    """
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import VettingStatus

    from ..services.attachments import attachment_add
    from ..services.submission import request_submit
    from .store import parse, read_raw

    if message.authority is None or message.authority.vetting_status != VettingStatus.VERIFIED:
        raise ServiceError("The sender's domain belongs to no verified authority: register and vet the authority "
                           "first.", code="authority_not_verified")
    data = dict(data)
    if message.emergency:
        data["emergency"] = True
        data["emergency_reason"] = data.get("emergency_reason") or "Claimed in the e-mail (see the inbox)."
    with transaction.atomic():
        row = _claim(actor, message.pk)
        request, _created = request_submit(actor=actor, authority=row.authority, data=data, channel="email",
                                           received_at=row.received_at, ip_address=ip_address)
        accepted = {a.position: a.filename for a in row.attachments.filter(accepted=True)}
        if accepted:
            parsed = parse(read_raw(row), too_large=False)
            for position, (filename, _type, payload) in enumerate(parsed.attachments, start=1):
                if position in accepted:
                    attachment_add(actor=actor, request=request, ip_address=ip_address,
                                   upload=SimpleUploadedFile(filename or f"attachment-{position}.pdf", payload))
        row.status, row.request = InboundStatus.CONVERTED, request
        row.handled_by, row.handled_at = actor, timezone.now()
        row.save(update_fields=["status", "request", "handled_by", "handled_at"])
        audit.record("mailbox.converted", actor=actor, request=request, obj=row, ip_address=ip_address,
                     data={"inbound_message_id": row.pk, "raw_sha256": row.raw_sha256,
                           "received_at": row.received_at, "attachments": len(accepted)})
    return request


def inbound_raw(*, actor: Any, message: InboundMessage, ip_address: str | None = None) -> bytes:
    """The raw message for the legal team (evidence export); every read is audited."""
    from .store import read_raw

    if not can(actor, "review"):
        raise ServiceError("Only the legal team reads the inbox.", code="permission_denied")
    raw = read_raw(message)
    audit.record("mailbox.raw_read", actor=actor, obj=message, ip_address=ip_address,
                 data={"inbound_message_id": message.pk, "raw_sha256": message.raw_sha256})
    return raw
