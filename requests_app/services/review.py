"""The legal team's operations on a request: assignment, notes, messages, Annex III,
emergency call-backs, the enforcing authority's answer and the four-eyes approval.

Every operation checks the actor's role (``requests_app.permissions``), locks the request,
writes its audit event (and outbox rows for whoever must hear of it) in one transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import trail as audit
from outbox import relay as outbox

from .. import timers
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
from ..rules import vocab as v
from ..rules.proposal import decided_verdicts, draft_annex_iii
from ..states import Status
from ..workflow import TransitionGuardFailed, TransitionNotAllowed, transition
from .errors import InvalidState, ServiceError

# One vocabulary for the engine, the models, the PDF, the admin forms and the API.
ANNEX_III_REASONS = v.ANNEX_III_REASONS


def _lock(request: LegalRequest) -> LegalRequest:
    return LegalRequest.objects.select_for_update().select_related("authority").get(pk=request.pk)


def _move(request: LegalRequest, target: str, **kwargs: Any) -> LegalRequest:
    try:
        return transition(request, target, **kwargs)
    except TransitionNotAllowed as exc:
        if exc.current != request.status:
            # The row changed between the page the person saw and the lock: say so plainly.
            raise InvalidState(f"{request.reference} was moved to {exc.current} meanwhile (by another member of "
                               f"the legal team or a timer); reload it before acting.") from exc
        raise InvalidState(str(exc)) from exc
    except TransitionGuardFailed as exc:
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
    """Annex III section D items: per identifier (``identifier``, ``target`` index) and per data
    category (``data_category``; none = every category), reasons from the one vocabulary."""
    cleaned = []
    for item in reasons:
        codes = [r for r in item.get("reasons", []) if r in ANNEX_III_REASONS]
        unknown = set(item.get("reasons", [])) - set(ANNEX_III_REASONS)
        if unknown:
            raise ServiceError(f"Unknown Annex III reasons: {', '.join(sorted(unknown))}.")
        if not codes:
            raise ServiceError("Each identifier needs at least one Annex III reason.")
        category = item.get("data_category") or None
        if category is not None and category not in v.CATEGORIES:
            raise ServiceError(f"Unknown data category: {category}.")
        target = item.get("target")
        entry: dict[str, Any] = {"identifier": str(item.get("identifier", "")), "data_category": category,
                                 "reasons": codes, "explanation": str(item.get("explanation", ""))}
        if target is not None:
            entry["target"] = int(target)
        bases = [str(b) for b in item.get("legal_basis") or [] if str(b).strip()]
        if bases:
            entry["legal_basis"] = bases
        cleaned.append(entry)
    return cleaned


def refusal_proposal(request: LegalRequest) -> dict[str, Any]:
    """The engine's drafted Annex III for ``request`` (stored with its decision; drafted again
    from the findings for decisions stored before proposals existed)."""
    decision = request.decision or {}
    if decision.get("proposal"):
        return dict(decision["proposal"])
    targets = [(t.kind, t.value) for t in request.targets.all()]
    return draft_annex_iii(decision, targets) if decision else {"recommendation": "review", "route": "", "items": []}


def _signed(locked: LegalRequest, actor: Any, cleaned: list[dict[str, Any]]) -> dict[str, Any]:
    """The signature, the engine's draft and what the person decided, per category and target."""
    targets = [(t.kind, t.value) for t in locked.targets.all()]
    decided = decided_verdicts(cleaned, [c for c in v.CATEGORIES if c in (locked.data_categories or [])], targets,
                               eevidence=locked.instrument in v.EEVIDENCE_INSTRUMENTS)
    return {"signed_by": actor, "signed_at": timezone.now(), "engine_proposal": refusal_proposal(locked),
            "decided": decided}


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
            preserved_until=preserved_until, created_by=actor, **_signed(locked, actor, _clean_reasons(reasons or [])),
        )
        _move(locked, Status.CLARIFICATION_REQUESTED, actor=actor, reason=clarification_asked.strip()[:500],
              data={"annex_iii_id": form.pk})
        timers.pause_deadlines(locked)
        outbox.enqueue("notify.clarification_requested", request=locked, payload={"annex_iii_id": form.pk})
    return form


def not_executed(*, actor: Any, request: LegalRequest, reasons: list[dict[str, Any]],
                 conflicting_obligations: str = "", data_preserved: bool = False,
                 preserved_until: Any = None) -> AnnexIII:
    """A person of the legal team decides and signs the non-execution (Annex III of Reg. (EU)
    2023/1543; for US and DSA orders the same structured record): reasons and free text per
    identifier and data category, usually edited from the engine's draft (``refusal_proposal``).
    The record and its PDF are then available to the authority in the portal, with an e-mail
    notice (``notify.decision``). Only a person may do this: the guard of ``transition``
    refuses ``not_executed`` to every automatic actor."""
    require(actor, "review", request)
    cleaned = _clean_reasons(reasons)
    if not cleaned:
        raise ServiceError("Give the Annex III reasons for each identifier.")
    with transaction.atomic():
        locked = _lock(request)
        form = AnnexIII.objects.create(
            request=locked, kind=AnnexIIIKind.NON_EXECUTION, reasons=cleaned,
            conflicting_obligations=conflicting_obligations, data_preserved=data_preserved,
            preserved_until=preserved_until, created_by=actor, **_signed(locked, actor, cleaned),
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
    not confirmed → refused (resolution ``not_verified``, neutral for the authority), the legal
    team alerted, the submitting account held pending review (tokens revoked, sessions ended)
    and the authority's administrators told neutrally.
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
            # The authority sees a neutral resolution; the legal team hears the suspicion.
            _move(locked, Status.REFUSED, actor=actor, resolution="not_verified",
                  reason="the authority's switchboard did not confirm the request")
            timers.cancel(locked)
            outbox.enqueue("alert.suspected_fraud", request=locked, payload={"callback_id": call.pk})
            if locked.submitted_by is not None and locked.submitted_by.authority_id is not None:
                from accounts.services import officer_suspend_pending_review

                officer_suspend_pending_review(actor=actor, officer=locked.submitted_by, request=locked,
                                               reason="emergency request not confirmed by the authority's switchboard")
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


def review_approve(*, actor: Any, request: LegalRequest, package_id: int, digests: list[str],
                   note: str = "") -> Approval:
    """Four eyes: a second member of the legal team approves the prepared response they saw.

    The approval names the package (``package_id``) and the SHA-256 of each of its files
    (``digests``) as the approver was shown them; it is refused if the newest draft is another
    one (a new draft was prepared meanwhile) or its files differ, so nobody approves a package
    swapped in behind their back (security.md, four eyes bound to the object seen).
    """
    require(actor, "approve", request)
    if request.callbacks.filter(outcome=CallbackOutcome.CONFIRMED, called_by=actor).exists():
        # The person who took the call-back cannot also release: a social-engineered call
        # must still convince a second person (security.md E2). Audited outside the
        # transaction of the refused approval, so the refusal is kept.
        audit.record("release.denied", actor=actor, request=request, authority_id=request.authority_id,
                     data={"reason": "the approver made the emergency call-back"})
        raise ServiceError("Four eyes: the person who verified the emergency by call-back cannot approve its "
                           "release.", code="four_eyes")
    from .delivery import package_digests, response_release

    with transaction.atomic():
        locked = _lock(request)
        package = (
            ResponsePackage.objects.select_for_update()
            .filter(request=locked, approval__isnull=True, released_at__isnull=True, purged_at__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        if package is None:
            done = (ResponsePackage.objects.filter(pk=package_id, request=locked, approval__isnull=False)
                    .select_related("approval__approved_by").first())
            if done is not None and done.approval is not None:
                # Two approvers at once: the second waited on the row lock and finds it done.
                raise ServiceError(f"This response was already approved by {done.approval.approved_by.email} "
                                   f"meanwhile; nothing more to do.", code="conflict")
            raise InvalidState("There is no prepared response to approve.")
        own = package.prepared_by_id == actor.pk
        stale = package.pk != package_id or package_digests(package) != sorted(digests)
        if own:
            # Committed with this block (no exception inside it), so the refused attempt is on record.
            audit.record("approval.refused_four_eyes", actor=actor, request=locked,
                         authority_id=locked.authority_id, data={"package_id": package.pk})
        elif stale:
            # Committed with this block (no exception inside it), so the refusal is on record.
            audit.record("approval.refused_stale", actor=actor, request=locked, authority_id=locked.authority_id,
                         data={"package_id_seen": package_id, "package_id_newest": package.pk})
        else:
            approval = Approval.objects.create(request=locked, prepared_by_id=package.prepared_by_id,
                                               approved_by=actor, note=note.strip())
            package.approval = approval
            package.save(update_fields=["approval"])
            audit.record("response.approved", actor=actor, request=locked, obj=approval,
                         authority_id=locked.authority_id,
                         data={"package_id": package.pk, "prepared_by": package.prepared_by_id,
                               "files_sha256": package_digests(package)})
            _move(locked, Status.APPROVED, actor=actor, reason=note or "approved (four eyes)")
            if locked.hold_until is None or locked.hold_until <= timezone.now():
                response_release(actor=actor, request=locked)
            else:
                # Released by the timer when the hold ends, on this approver's authority.
                timers.schedule(locked, timers.TimerKind.RELEASE_DUE, locked.hold_until,
                                payload={"approver_id": actor.pk})
    if own:
        raise ServiceError("Four eyes: the approver cannot be the person who prepared the response.",
                           code="four_eyes")
    if stale:
        raise ServiceError("The prepared response changed since you opened it: review the newest package and "
                           "approve again.", code="stale_package")
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
