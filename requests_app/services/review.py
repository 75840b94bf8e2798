"""The legal team's operations on a request: assignment, notes, messages, Annex III,
emergency call-backs, the enforcing authority's answer and the four-eyes approval.

Every operation checks the actor's role (``requests_app.permissions``), locks the request,
writes its audit event (and outbox rows for whoever must hear of it) in one transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import audit, outbox, timers
from ..models import (
    AnnexIII,
    AnnexIIIKind,
    Approval,
    CallbackOutcome,
    CallbackVerification,
    InternalNote,
    LegalRequest,
    Message,
    MessageKind,
    ResponsePackage,
)
from ..permissions import require
from ..states import Status
from ..workflow import TransitionGuardFailed, TransitionNotAllowed, transition
from .errors import InvalidState, ServiceError

ANNEX_III_REASONS = (
    "incomplete",
    "manifest_errors",
    "insufficient_information",
    "data_not_stored",
    "de_facto_impossibility",
    "not_issued_or_validated_per_art_4",
    "offence_not_within_art_5_4",
    "provider_not_covered",
    "immunities_or_privileges",
    "conflicting_obligations",
    "other",
)


def _lock(request: LegalRequest) -> LegalRequest:
    return LegalRequest.objects.select_for_update().select_related("authority").get(pk=request.pk)


def _move(request: LegalRequest, target: str, **kwargs: Any) -> LegalRequest:
    try:
        return transition(request, target, **kwargs)
    except (TransitionNotAllowed, TransitionGuardFailed) as exc:
        raise InvalidState(str(exc)) from exc


def review_assign(*, actor: Any, request: LegalRequest, reviewer: Any) -> LegalRequest:
    require(actor, "assign", request)
    if reviewer is not None and not (reviewer.is_active and reviewer.is_staff and reviewer.authority_id is None):
        raise ServiceError("Requests can only be assigned to active members of the legal team.")
    with transaction.atomic():
        locked = _lock(request)
        previous = locked.assigned_to_id
        locked.assigned_to = reviewer
        locked.save(update_fields=["assigned_to", "updated_at"])
        audit.record("request.assigned", actor=actor, request=locked, authority_id=locked.authority_id,
                     data={"from": previous, "to": getattr(reviewer, "pk", None)})
        if reviewer is not None:
            outbox.enqueue("notify.assigned", request=locked, payload={"user_id": reviewer.pk})
    return locked


def note_add(*, actor: Any, request: LegalRequest, body: str) -> InternalNote:
    require(actor, "review", request)
    if not body.strip():
        raise ServiceError("A note cannot be empty.")
    with transaction.atomic():
        note = InternalNote.objects.create(request=request, author=actor, body=body.strip())
        # The audit records that a note exists, not its text (notes may hold legal reasoning).
        audit.record("request.note_added", actor=actor, request=request, obj=note,
                     authority_id=request.authority_id)
    return note


def message_to_authority(*, actor: Any, request: LegalRequest, body: str) -> Message:
    require(actor, "review", request)
    if not body.strip():
        raise ServiceError("A message cannot be empty.")
    with transaction.atomic():
        message = Message.objects.create(request=request, kind=MessageKind.TO_AUTHORITY, body=body.strip(),
                                         author=actor)
        audit.record("request.message_sent", actor=actor, request=request, obj=message,
                     authority_id=request.authority_id)
        outbox.enqueue("notify.message_to_authority", request=request, payload={"message_id": message.pk})
    return message


def message_from_authority(*, actor: Any, request: LegalRequest, body: str, ip_address: str | None = None) -> Message:
    """An officer writes to the legal team about one of their authority's requests."""
    if actor.authority_id != request.authority_id:
        raise ServiceError("Only the requesting authority can write on this request.", code="permission_denied")
    if not body.strip():
        raise ServiceError("A message cannot be empty.")
    with transaction.atomic():
        message = Message.objects.create(request=request, kind=MessageKind.FROM_AUTHORITY, body=body.strip(),
                                         author=actor)
        audit.record("request.message_received", actor=actor, request=request, obj=message,
                     ip_address=ip_address)
        outbox.enqueue("notify.message_from_authority", request=request, payload={"message_id": message.pk})
    return message


def _clean_reasons(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned = []
    for item in reasons:
        codes = [r for r in item.get("reasons", []) if r in ANNEX_III_REASONS]
        unknown = set(item.get("reasons", [])) - set(ANNEX_III_REASONS)
        if unknown:
            raise ServiceError(f"Unknown Annex III reasons: {', '.join(sorted(unknown))}.")
        if not codes:
            raise ServiceError("Each identifier needs at least one Annex III reason.")
        cleaned.append({"identifier": str(item.get("identifier", "")), "reasons": codes,
                        "explanation": str(item.get("explanation", ""))})
    return cleaned


def clarification_request(*, actor: Any, request: LegalRequest, clarification_asked: str,
                          reasons: list[dict[str, Any]] | None = None, data_preserved: bool = True,
                          preserved_until: Any = None) -> AnnexIII:
    """Ask the issuing authority for clarification with Annex III (Art. 10(4), 11(3)).

    The production period is paused; it restarts in full when the clarification arrives.
    Preservation continues meanwhile (Annex I introduction).
    """
    require(actor, "review", request)
    if not clarification_asked.strip():
        raise ServiceError("Say what the authority must clarify.")
    with transaction.atomic():
        locked = _lock(request)
        form = AnnexIII.objects.create(
            request=locked, kind=AnnexIIIKind.CLARIFICATION, reasons=_clean_reasons(reasons or []),
            clarification_asked=clarification_asked.strip(), data_preserved=data_preserved,
            preserved_until=preserved_until, created_by=actor,
        )
        _move(locked, Status.CLARIFICATION_REQUESTED, actor=actor, reason=clarification_asked.strip()[:500],
              data={"annex_iii_id": form.pk})
        timers.pause_deadlines(locked)
        outbox.enqueue("notify.clarification_requested", request=locked, payload={"annex_iii_id": form.pk})
    return form


def not_executed(*, actor: Any, request: LegalRequest, reasons: list[dict[str, Any]],
                 conflicting_obligations: str = "", data_preserved: bool = False,
                 preserved_until: Any = None) -> AnnexIII:
    """Record that the order cannot be executed, with Annex III reasons per identifier."""
    require(actor, "review", request)
    cleaned = _clean_reasons(reasons)
    if not cleaned:
        raise ServiceError("Give the Annex III reasons for each identifier.")
    with transaction.atomic():
        locked = _lock(request)
        form = AnnexIII.objects.create(
            request=locked, kind=AnnexIIIKind.NON_EXECUTION, reasons=cleaned,
            conflicting_obligations=conflicting_obligations, data_preserved=data_preserved,
            preserved_until=preserved_until, created_by=actor,
        )
        _move(locked, Status.NOT_EXECUTED, actor=actor, resolution="not_executed",
              reason="; ".join(sorted({r for item in cleaned for r in item["reasons"]})),
              data={"annex_iii_id": form.pk})
        timers.cancel(locked)
        outbox.enqueue("notify.decision", request=locked, payload={"annex_iii_id": form.pk})
    return form


def request_refuse(*, actor: Any, request: LegalRequest, reason: str) -> LegalRequest:
    require(actor, "review", request)
    if not reason.strip():
        raise ServiceError("Give the reason for the refusal.")
    with transaction.atomic():
        moved = _move(request, Status.REFUSED, actor=actor, reason=reason.strip(), resolution="refused")
        timers.cancel(moved)
        outbox.enqueue("notify.decision", request=moved)
    return moved


def request_reroute(*, actor: Any, request: LegalRequest, where: str) -> LegalRequest:
    """Not this route (domestic order, Denmark, MLA...): tell the authority where to go."""
    require(actor, "review", request)
    if not where.strip():
        raise ServiceError("Say which route the authority should use.")
    with transaction.atomic():
        moved = _move(request, Status.REROUTED, actor=actor, reason=where.strip(), resolution="rerouted")
        timers.cancel(moved)
        outbox.enqueue("notify.decision", request=moved, payload={"where": where.strip()})
    return moved


def emergency_callback_record(*, actor: Any, request: LegalRequest, outcome: str, person_reached: str = "",
                              notes: str = "") -> CallbackVerification:
    """Record the call-back to the authority's switchboard from its registry record.

    The number is never taken from the request: a forged emergency request from a hacked
    police mailbox carries the attacker's number. Confirmed → the request is worked;
    not confirmed → refused as a suspected fraudulent request, and the legal admin alerted.
    """
    require(actor, "verify_emergency", request)
    if outcome not in CallbackOutcome.values:
        raise ServiceError(f"outcome must be one of {', '.join(CallbackOutcome.values)}.")
    with transaction.atomic():
        locked = _lock(request)
        if locked.status != Status.VERIFICATION_HOLD:
            raise InvalidState("Only a request held for verification can be verified.")
        call = CallbackVerification.objects.create(
            request=locked, phone_called=locked.authority.switchboard_phone, called_by=actor,
            outcome=outcome, person_reached=person_reached.strip(), notes=notes.strip(),
        )
        audit.record("emergency.callback", actor=actor, request=locked, obj=call, authority_id=locked.authority_id,
                     data={"outcome": outcome, "phone_called": call.phone_called})
        if outcome == CallbackOutcome.CONFIRMED:
            target = Status.PRESERVING if locked.lifecycle == "preservation" else Status.IN_REVIEW
            _move(locked, target, actor=actor, reason="call-back confirmed the request")
        elif outcome == CallbackOutcome.NOT_CONFIRMED:
            _move(locked, Status.REFUSED, actor=actor, resolution="suspected_fraudulent_request",
                  reason="the authority's switchboard did not confirm the request")
            timers.cancel(locked)
            outbox.enqueue("alert.suspected_fraud", request=locked, payload={"callback_id": call.pk})
    return call


def ea_confirm(*, actor: Any, request: LegalRequest, note: str = "") -> LegalRequest:
    """The enforcing authority confirmed early that it raises no ground (Art. 10(2))."""
    require(actor, "review", request)
    with transaction.atomic():
        locked = _lock(request)
        locked.hold_until = None
        locked.save(update_fields=["hold_until", "updated_at"])
        moved = _move(locked, Status.IN_REVIEW, actor=actor, reason=note or "enforcing authority confirmed",
                      data={"enforcing_authority": "confirmed"})
        timers.cancel(locked, kinds=[timers.TimerKind.EA_WINDOW_END])
        outbox.enqueue("notify.ea_window_ended", request=moved, payload={"confirmed_early": True})
    return moved


def ea_object(*, actor: Any, request: LegalRequest, grounds: str) -> LegalRequest:
    """The enforcing authority raised a ground for refusal (Art. 12): do not transfer."""
    require(actor, "review", request)
    if not grounds.strip():
        raise ServiceError("Record the grounds the enforcing authority raised.")
    with transaction.atomic():
        moved = _move(request, Status.REFUSED, actor=actor, resolution="refused_by_enforcing_authority",
                      reason=grounds.strip(), data={"enforcing_authority": "objected"})
        timers.cancel(moved)
        outbox.enqueue("notify.decision", request=moved)
    return moved


def review_approve(*, actor: Any, request: LegalRequest, note: str = "") -> Approval:
    """Four eyes: a second member of the legal team approves the prepared response."""
    require(actor, "approve", request)
    if request.callbacks.filter(outcome=CallbackOutcome.CONFIRMED, called_by=actor).exists():
        # The person who took the call-back cannot also release: a social-engineered call
        # must still convince a second person (security.md E2). Audited outside the
        # transaction of the refused approval, so the refusal is kept.
        audit.record("release.denied", actor=actor, request=request, authority_id=request.authority_id,
                     data={"reason": "the approver made the emergency call-back"})
        raise ServiceError("Four eyes: the person who verified the emergency by call-back cannot approve its "
                           "release.", code="four_eyes")
    with transaction.atomic():
        locked = _lock(request)
        package = (
            ResponsePackage.objects.select_for_update()
            .filter(request=locked, approval__isnull=True, released_at__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        if package is None:
            raise InvalidState("There is no prepared response to approve.")
        if package.prepared_by_id == actor.pk:
            raise ServiceError("Four eyes: the approver cannot be the person who prepared the response.",
                               code="four_eyes")

        approval = Approval.objects.create(request=locked, prepared_by_id=package.prepared_by_id, approved_by=actor,
                                           note=note.strip())
        package.approval = approval
        package.save(update_fields=["approval"])
        audit.record("response.approved", actor=actor, request=locked, obj=approval,
                     authority_id=locked.authority_id, data={"package_id": package.pk,
                                                             "prepared_by": package.prepared_by_id})
        _move(locked, Status.APPROVED, actor=actor, reason=note or "approved (four eyes)")
        if locked.hold_until is None or locked.hold_until <= timezone.now():
            from .delivery import response_release

            response_release(actor=actor, request=locked)
        else:
            # Released by the timer when the hold ends, on this approver's authority.
            timers.schedule(locked, timers.TimerKind.RELEASE_DUE, locked.hold_until,
                            payload={"approver_id": actor.pk})
    return approval


def preservation_release(*, actor: Any, request: LegalRequest, reason: str) -> LegalRequest:
    """Lift a preservation hold (the issuing authority says it is no longer needed)."""
    require(actor, "review", request)
    with transaction.atomic():
        moved = _move(request, Status.RELEASED, actor=actor, resolution="preservation_released",
                      reason=reason or "preservation no longer necessary")
        timers.cancel(moved)
        outbox.enqueue("notify.decision", request=moved)
    return moved


def request_close(*, actor: Any, request: LegalRequest, reason: str = "") -> LegalRequest:
    require(actor, "review", request)
    with transaction.atomic():
        moved = _move(request, Status.CLOSED, actor=actor, resolution="closed", reason=reason)
        timers.cancel(moved, keep=[timers.TimerKind.RESPONSE_PURGE])
    return moved
