"""Submitting, amending and withdrawing requests."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.standing import require_standing
from audit import trail as audit
from outbox import relay as outbox
from portal import compiled

from .. import codec, timers, validation_queue
from ..models import Channel, IdempotencyRecord, LegalRequest, Message, MessageKind, Target
from ..references import next_reference_and_audit_number
from ..states import LIFECYCLE_OF_INSTRUMENT, LINKED_INSTRUMENTS, Status
from ..workflow import TransitionNotAllowed, lock_request, transition
from .errors import IdempotencyKeyReused, InvalidState, ServiceError


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)


def fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def _resolve_delegates(actor: Any, emails: list[str]) -> list[Any]:
    """Colleagues named to see a confidential request: active officers of the same authority."""
    from django.contrib.auth import get_user_model

    wanted = {str(e).strip().lower() for e in emails if str(e).strip()}
    if not wanted:
        return []
    found = list(get_user_model().objects.filter(authority_id=actor.authority_id, is_active=True,
                                                 email__in=wanted).exclude(pk=actor.pk))
    unknown = sorted(wanted - {u.email.lower() for u in found} - {actor.email.lower()})
    if unknown:
        raise ServiceError("Delegates must be active colleagues of your authority.", code="validation_error",
                           fields={"delegates": [f"Not a colleague: {e}" for e in unknown]})
    return found


def _find_linked(authority_id: int, reference: str) -> LegalRequest | None:
    """Annex V/VI follow an order of the same authority; anyone else's reference is unknown."""
    if not reference:
        return None
    return LegalRequest.objects.filter(authority_id=authority_id, reference=reference).first()


def _replay(authority_id: int, key: str, print_: str) -> LegalRequest | None:
    record = IdempotencyRecord.objects.filter(authority_id=authority_id, key=key).select_related("request").first()
    if record is None:
        return None
    if record.fingerprint != print_:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request body.")
    return record.request


def request_submit(
    *,
    actor: Any,
    data: dict[str, Any],
    channel: str = Channel.API,
    idempotency_key: str | None = None,
    ip_address: str | None = None,
    authority: Any = None,
    received_at: datetime | None = None,
) -> tuple[LegalRequest, bool]:
    """Store a new request and queue its validation. Returns ``(request, created)``.

    One transaction writes the request, its targets, the audit event and the outbox row that
    queues validation. With an ``idempotency_key``, a repeat of the same body returns the
    first request (``created`` False) and a different body is refused.
    """
    require_standing(actor)
    # The legal team registers for an authority (a message, a letter): ``authority`` names it and
    # ``received_at`` is the true receipt time, from which the deadlines run; never in the future.
    authority = authority if authority is not None else actor.authority
    if received_at is not None and received_at > timezone.now():
        raise ServiceError("The receipt time cannot be in the future.", fields={"received_at": ["in_future"]})
    print_ = fingerprint(data)
    if idempotency_key:
        existing = _replay(authority.pk, idempotency_key, print_)
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            if idempotency_key:
                # Claim the key first: a concurrent POST with the same key waits here on the
                # unique index and fails once we commit, before doing any other work.
                record = IdempotencyRecord.objects.create(
                    authority=authority, key=idempotency_key, fingerprint=print_, request=None
                )
            request = _create(actor=actor, authority=authority, data=data, channel=channel,
                              ip_address=ip_address, content_hash=print_, received_at=received_at)
            if idempotency_key:
                IdempotencyRecord.objects.filter(pk=record.pk).update(request=request)
    except IntegrityError:
        if not idempotency_key:
            raise
        existing = _replay(authority.pk, idempotency_key, print_)
        if existing is None:
            raise
        return existing, False
    return request, True


def _create(*, actor: Any, authority: Any, data: dict[str, Any], channel: str, ip_address: str | None,
            content_hash: str, received_at: datetime | None = None) -> LegalRequest:
    delegates = _resolve_delegates(actor, data.get("delegates") or [])  # refused before a reference is taken
    received_at = received_at or timezone.now()
    reference, first_audit_number = next_reference_and_audit_number(received_at)
    fields = codec.model_fields(data)
    instrument = data["instrument"]
    linked = _find_linked(authority.pk, fields["linked_reference"]) if instrument in LINKED_INSTRUMENTS else None
    receipt = hashlib.sha256(
        f"{reference}|{received_at.isoformat()}|{authority.pk}|{content_hash}".encode()
    ).hexdigest()
    targets = codec.target_rows(data.get("targets"))
    # The 61-column INSERT compiled once per connection (portal/compiled.create), not per submission.
    request = compiled.create(LegalRequest(
        reference=reference,
        authority=authority,
        submitted_by=actor,
        channel=channel,
        country=authority.country,
        instrument=instrument,
        lifecycle=LIFECYCLE_OF_INSTRUMENT[instrument],
        status=Status.RECEIVED,
        status_changed_at=received_at,
        received_at=received_at,
        receipt_hash=receipt,
        linked_request=linked,
        target_count=len(targets),  # counted here, not by a second version of the row (migration 0028)
        **fields,
    ))
    if delegates:
        request.delegates.set(delegates)
    # Compiled once per connection (the ORM compiled this INSERT for every submission); the
    # instances are not kept, so their keys need not come back.
    compiled.insert(Target, [Target(request=request, **row) for row in targets])
    # The row in ``received`` is the durable record that it waits for validation; after the
    # commit a drain is rung for, unless one is already on its way (validation_queue).
    validation_queue.ring_after_commit(request.pk)
    if request.emergency or instrument == "emergency_disclosure":
        # The on-call lawyer hears of every emergency at once, before validation.
        outbox.enqueue("alert.emergency", request=request)
    audit.record(
        "request.submitted",
        actor=actor,
        request=request,
        data={"to": Status.RECEIVED, "instrument": instrument, "channel": channel, "receipt_hash": receipt,
              "content_sha256": content_hash},
        ip_address=ip_address,
        new_chain=True,  # the request was inserted just above: its chain starts here
        numbers=None if first_audit_number is None else [first_audit_number],  # drawn with the reference
    )
    return request


def request_withdraw(*, actor: Any, request: LegalRequest, reason: str = "",
                     ip_address: str | None = None) -> LegalRequest:
    """The authority withdraws its request; nothing more will be done with it."""
    require_standing(actor)
    try:
        with transaction.atomic():
            moved = transition(lock_request(request), Status.WITHDRAWN, actor=actor, reason=reason,
                               resolution="withdrawn_by_authority", ip_address=ip_address)
            timers.cancel(moved)
            outbox.enqueue("notify.withdrawn", request=moved)
            return moved
    except TransitionNotAllowed as exc:
        raise InvalidState(f"A request in state {exc.current} can no longer be withdrawn.") from exc


# Fields an authority may correct when it answers a clarification request (``codec.SCALARS``).
AMENDABLE = codec.AMENDABLE


def clarification_submit(*, actor: Any, request: LegalRequest, message: str, changes: dict[str, Any],
                         ip_address: str | None = None) -> LegalRequest:
    """Answer a clarification request: record the answer, apply the corrections, re-validate.

    Per Art. 10(4) the production period restarts when the clarification arrives; the
    validation task recomputes the deadlines from the new facts.
    """
    require_standing(actor)
    with transaction.atomic(), audit.batch():  # its two audit events written together
        locked = lock_request(request)
        if locked.status != Status.CLARIFICATION_REQUESTED:
            raise InvalidState("This request is not waiting for a clarification.")
        refused = sorted(set(changes) - set(AMENDABLE))
        if refused:
            raise ServiceError(f"These fields cannot be changed by a clarification: {', '.join(refused)}.",
                               fields={name: ["Not amendable."] for name in refused})
        # Only the corrected body fields are mapped to columns (body → model once).
        model_changes = codec.model_fields(changes, only=set(changes) - {"targets"})
        changed = {}
        for name, value in model_changes.items():
            if getattr(locked, name) != value:
                changed[name] = value
                setattr(locked, name, value)
        if "linked_reference" in changed:
            locked.linked_request = _find_linked(locked.authority_id, locked.linked_reference)
            changed["linked_request"] = locked.linked_request
        if "targets" in changes:
            locked.targets.all().delete()
            Target.objects.bulk_create(Target(request=locked, **row) for row in codec.target_rows(changes["targets"]))
            changed["targets"] = changes["targets"]
        # A new validation round: the poison-message counter counts attempts within one round.
        locked.validation_attempts = 0
        locked.save(update_fields=[n for n in changed if n != "targets"] + ["validation_attempts", "updated_at"])
        answer = Message.objects.create(
            request=locked, kind=MessageKind.CLARIFICATION_ANSWER, body=message, author=actor,
            changes={"fields": sorted(changed)},
        )
        audit.record("request.clarification_answered", actor=actor, request=locked, obj=answer,
                     data={"changed_fields": sorted(changed)}, ip_address=ip_address)
        locked = transition(locked, Status.VALIDATING, actor=actor, reason="clarification received",
                            ip_address=ip_address)
        outbox.enqueue("request.validate", request=locked)
    return locked

