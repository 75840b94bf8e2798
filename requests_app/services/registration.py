"""The legal team registers a request that arrived outside the portal (issue 12 item 2).

An order received by post, fax, e-mail, the decentralised IT system or otherwise is registered
in the admin (``admin_views/registration.py``) and goes through the one intake,
``request_submit``, for the issuing authority chosen from the registry (or registered here,
pending vetting), with the receipt time *as stated*: the deadlines run from it (Reg. (EU)
2023/1543 Art. 10(2)-(4) count from the receipt of the certificate). The time may not be in
the future; older than ``REGISTRATION_LATE_MARGIN`` the request is flagged
``late_registration``. The original order goes through the PDF checks (``attachment_add``).

Who registered it and when is the audit event ``request.registered``. When the authority has
no approved officer to see the request in the portal, its contact gets an invitation to
register (``notify.registration_invite``): the portal's address only, no reference, no case data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import ApprovalStatus, Authority, VettingStatus
from audit import trail as audit
from outbox import relay as outbox

from ..models import AttachmentKind, Channel, InboundMessage, LegalRequest
from ..permissions import can
from ..uploads import CheckedUpload
from .attachments import attachment_add
from .errors import ServiceError
from .submission import request_submit

# The channels a registration may state (web and API requests register themselves).
REGISTRATION_CHANNELS = (Channel.EMAIL, Channel.POST, Channel.FAX, Channel.DECENTRALISED_IT, Channel.OTHER)


@dataclass(frozen=True)
class NewAuthority:
    """An issuing authority not yet in the registry: registered pending vetting."""

    name: str
    country: str
    authority_type: str
    domains: list[str]
    switchboard_phone: str


def is_late(received_at: datetime, now: datetime | None = None) -> bool:
    return (now or timezone.now()) - received_at > settings.REGISTRATION_LATE_MARGIN


def has_portal_officers(authority: Authority) -> bool:
    """Whether someone of the authority can see the request in the portal."""
    return get_user_model().objects.filter(authority=authority, is_active=True,
                                           approval_status=ApprovalStatus.APPROVED).exists()


def check_received_at(received_at: datetime | None) -> datetime:
    if received_at is None:
        raise ServiceError("Give the time the order was received.", fields={"received_at": ["required"]})
    if timezone.is_naive(received_at):
        raise ServiceError("The receipt time needs a time zone.", fields={"received_at": ["naive"]})
    if received_at > timezone.now():
        raise ServiceError("The receipt time cannot be in the future.", fields={"received_at": ["in_future"]})
    return received_at.astimezone(UTC)


def request_register(*, actor: Any, data: dict[str, Any], channel: str, received_at: datetime | None,
                     authority: Authority | None = None, new_authority: NewAuthority | None = None,
                     order: Any = None, checked_order: CheckedUpload | None = None, contact_email: str = "",
                     inbound: InboundMessage | None = None, idempotency_key: str | None = None,
                     ip_address: str | None = None) -> LegalRequest:
    """Register a request received outside the portal; one transaction (module docstring).

    ``inbound``: the mailbox message this request came in (the inbox's "convert"); its
    authority, channel (e-mail) and receipt time are the message's, and its accepted PDF
    attachments are added by ``mailbox.inbox.inbound_convert``. ``idempotency_key`` (the page's
    submission key): a second submit of the same page returns the first request, nothing added.
    """
    if not can(actor, "review"):
        raise ServiceError("Only the legal team registers requests.", code="permission_denied")
    if inbound is not None:
        channel, received_at, authority, new_authority = Channel.EMAIL, inbound.received_at, inbound.authority, None
        if authority is None or authority.vetting_status != VettingStatus.VERIFIED:
            raise ServiceError("The sender's domain belongs to no verified authority: register and vet the "
                               "authority first.", code="authority_not_verified")
    if channel not in REGISTRATION_CHANNELS:
        raise ServiceError("Choose how the order was received.", fields={"channel": ["invalid_choice"]})
    received_at = check_received_at(received_at)
    if (authority is None) == (new_authority is None):
        raise ServiceError("Choose the issuing authority from the registry, or register a new one.",
                           fields={"authority": ["required"]})
    contact_email = (contact_email or "").strip().lower()
    if data.get("delegates"):
        # Colleagues are named by the authority's own officers in the portal, never by the provider.
        raise ServiceError("Colleagues who may see a request are named by the authority in the portal; leave "
                           "this empty.", fields={"delegates": ["not_for_registration"]})
    if new_authority is not None and Authority.objects.filter(name__iexact=new_authority.name).exists():
        raise ServiceError("An authority of this name is already in the registry: choose it instead.",
                           fields={"new_authority_name": ["exists"]})
    if not order and inbound is None:
        raise ServiceError("Upload the original order (PDF).", fields={"order_file": ["required"]})
    from accounts.services import authority_create

    with transaction.atomic():
        if new_authority is not None:
            try:
                authority = authority_create(
                    actor=actor, name=new_authority.name, country=new_authority.country,
                    authority_type=new_authority.authority_type, domains=new_authority.domains,
                    switchboard_phone=new_authority.switchboard_phone, verified=False)
            except ValidationError as exc:
                raise ServiceError(" ".join(exc.messages), fields={"new_authority_name": exc.messages}) from exc
        assert authority is not None
        # A suspended or revoked authority is not invited (its officers are shut out on purpose).
        invite = (authority.vetting_status in (VettingStatus.VERIFIED, VettingStatus.PENDING)
                  and not has_portal_officers(authority))
        if invite:
            if not contact_email:
                raise ServiceError("The authority has no officer in the portal: give its contact e-mail address "
                                   "to invite it to register.", fields={"contact_email": ["required"]})
            if authority.email_domains and not authority.accepts_email(contact_email):
                raise ServiceError("The contact address must be on one of the authority's registered e-mail "
                                   "domains (only those may sign up).", fields={"contact_email": ["off_domain"]})
        if inbound is not None:
            from ..mailbox.inbox import inbound_convert

            request = inbound_convert(actor=actor, message=inbound, data=data, ip_address=ip_address)
        else:
            request, created = request_submit(actor=actor, authority=authority, data=data, channel=channel,
                                              received_at=received_at, ip_address=ip_address,
                                              idempotency_key=idempotency_key)
            if not created:
                return request  # the same page submitted twice: the first registration stands
        if order:
            attachment_add(actor=actor, request=request, upload=order, kind=AttachmentKind.ORDER,
                           ip_address=ip_address, checked=checked_order)
        late = is_late(received_at)
        if late:
            LegalRequest.objects.filter(pk=request.pk).update(late_registration=True)
            request.late_registration = True
        audit.record("request.registered", actor=actor, request=request, authority_id=authority.pk,
                     ip_address=ip_address, data={
                         "channel": channel, "received_at": received_at, "registered_at": timezone.now(),
                         "late": late, "new_authority": new_authority is not None,
                         "inbound_message_id": inbound.pk if inbound is not None else None,
                         "invited": invite})
        if invite:
            outbox.enqueue("notify.registration_invite", payload={"address": contact_email},
                           dedup_key=f"registration-invite:{request.pk}")
            audit.record("authority.invited", actor=actor, obj=authority, authority_id=authority.pk,
                         ip_address=ip_address, data={"address": contact_email, "request_id": request.pk})
    return request


def registration_check(*, authority: Authority | None, data: dict[str, Any],
                       received_at: datetime | None) -> dict[str, Any]:
    """The live rule check of the registration page: what ``request_check`` does for an officer,
    with the chosen authority as issuer and the stated receipt time. Stores nothing."""
    from ..codec import facts as facts_from_data
    from ..provider import provider_config
    from ..rules import evaluate

    linked = None
    if authority is not None and data.get("linked_reference"):
        linked = LegalRequest.objects.filter(authority=authority, reference=data["linked_reference"]).first()
    facts = facts_from_data(data, authority=authority, received_at=received_at or timezone.now(), linked=linked)
    return evaluate(facts, provider_config()).to_dict()
