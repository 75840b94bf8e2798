"""The legal team's operations on a request: assignment, notes, messages, Annex III,
emergency call-backs, the enforcing authority's answer and the four-eyes approval.

Every operation checks the actor's role (``requests_app.permissions``), locks the request,
writes its audit event (and outbox rows for whoever must hear of it) in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import trail as audit
from outbox import relay as outbox

from .. import timers
from ..models import (
    DECIDING_KINDS,
    AnnexIII,
    AnnexIIIKind,
    AnnexIIIOrigin,
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
from ..workflow import TransitionGuardFailed, TransitionNotAllowed, allowed_targets, is_locked, lock_request, transition
from .enforcing_authority_copy import copy_to_enforcing_authority, prerender_copy
from .errors import InvalidState, ServiceError

# One vocabulary for the engine, the models, the PDF, the admin forms and the API.
ANNEX_III_REASONS = v.ANNEX_III_REASONS


def _lock(request: LegalRequest) -> LegalRequest:
    return lock_request(request, select_related=("authority",))


def _move(request: LegalRequest, target: str, **kwargs: Any) -> LegalRequest:
    """Move ``request`` (locked here unless the caller already holds it locked)."""
    seen = request.status
    locked = request if is_locked(request) else _lock(request)
    try:
        return transition(locked, target, **kwargs)
    except TransitionNotAllowed as exc:
        if exc.current != seen:
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
            outbox.enqueue("notify.assigned", request=locked, payload={"user_id": reviewer.pk, "actor_id": actor.pk})
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


def _signed(locked: LegalRequest, actor: Any, cleaned: list[dict[str, Any]], now: Any = None) -> dict[str, Any]:
    """The signature, the engine's draft and what the person decided, per category and target."""
    targets = [(t.kind, t.value) for t in locked.targets.all()]
    decided = decided_verdicts(cleaned, [c for c in v.CATEGORIES if c in (locked.data_categories or [])], targets,
                               eevidence=locked.instrument in v.EEVIDENCE_INSTRUMENTS)
    return {"signed_by": actor, "signed_at": now or timezone.now(), "engine_proposal": refusal_proposal(locked),
            "decided": decided}


def clarification_request(*, actor: Any, request: LegalRequest, clarification_asked: str,
                          reasons: list[dict[str, Any]] | None = None, data_preserved: bool = True,
                          preserved_until: Any = None) -> AnnexIII:
    """Ask the issuing authority for clarification with Annex III (Art. 10(6); for an EPOC-PR
    Art. 11); where the enforcing authority was notified (Art. 8) it receives the form too.

    The production period is paused; it restarts in full when the clarification arrives.
    Preservation continues meanwhile (Annex I introduction).
    """
    require(actor, "review", request)
    if not clarification_asked.strip():
        raise ServiceError("Say what the authority must clarify.")
    cleaned, now = _clean_reasons(reasons or []), timezone.now()
    fields = {"kind": AnnexIIIKind.CLARIFICATION, "reasons": cleaned,
              "clarification_asked": clarification_asked.strip(), "data_preserved": data_preserved,
              "preserved_until": preserved_until, "created_by": actor, "sent_at": now}
    # The enforcing authority's PDF, rendered from the form as it will be saved before the lock
    # is taken (``enforcing_authority_copy.prerender_copy``).
    prerendered = prerender_copy(AnnexIII(request=request, **fields, **_signed(request, actor, cleaned, now)))
    with transaction.atomic():
        locked = _lock(request)
        form = AnnexIII.objects.create(request=locked, **fields, **_signed(locked, actor, cleaned, now))
        _move(locked, Status.CLARIFICATION_REQUESTED, actor=actor, reason=clarification_asked.strip()[:500],
              data={"annex_iii_id": form.pk})
        timers.pause_deadlines(locked)
        outbox.enqueue("notify.clarification_requested", request=locked, payload={"annex_iii_id": form.pk})
        # Art. 10(6): the addressee informs the issuing authority "and, where a notification has
        # taken place, the enforcing authority" and asks for clarification with Annex III.
        copy_to_enforcing_authority(request=locked, form=form, actor=actor, prerendered=prerendered)
    return form


def annex_iii_digest(form: AnnexIII) -> str:
    """SHA-256 of what a deciding Annex III says (the content the approver is shown): kind,
    reasons per identifier and category, sections E-G, the route, and the per-category and
    per-target verdicts. Any change of the draft changes the digest, so an approval bound to
    an older digest is refused."""
    content = {
        "request": form.request_id, "kind": form.kind, "reasons": form.reasons,
        "conflicting_obligations": form.conflicting_obligations, "clarification_asked": form.clarification_asked,
        "data_preserved": form.data_preserved,
        "preserved_until": form.preserved_until.isoformat() if form.preserved_until else None,
        "route_to": form.route_to, "partial": form.partial, "decided": form.decided,
        "signed_by": form.signed_by_id,
    }
    if form.origin:  # absent for the legal team's own drafts: their digests stay as they were
        content["origin"] = form.origin
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def pending_refusal(request: LegalRequest) -> AnnexIII | None:
    """The newest deciding Annex III draft awaiting a second person (the one an approval must name)."""
    return (AnnexIII.objects.filter(request=request, kind__in=DECIDING_KINDS, sent_at__isnull=True,
                                    superseded_at__isnull=True)
            .select_related("signed_by").order_by("-created_at", "-pk").first())


_OUTCOME: dict[str, str] = {AnnexIIIKind.NON_EXECUTION: Status.NOT_EXECUTED, AnnexIIIKind.REFUSAL: Status.REFUSED,
            AnnexIIIKind.REROUTE: Status.REROUTED}
_RESOLUTION: dict[str, str] = {AnnexIIIKind.NON_EXECUTION: "not_executed", AnnexIIIKind.REFUSAL: "refused",
               AnnexIIIKind.REROUTE: "rerouted"}
# A refusal drafted from someone else's finding closes with a resolution that says whose: the
# enforcing authority's ground (Art. 12), the switchboard that did not confirm (neutral for the
# authority). Decided the same way: one person signs, a second approves.
_ORIGIN_RESOLUTION: dict[str, str] = {AnnexIIIOrigin.ENFORCING_AUTHORITY: "refused_by_enforcing_authority",
                                      AnnexIIIOrigin.CALLBACK_NOT_CONFIRMED: "not_verified"}
_ORIGIN_DATA: dict[str, dict[str, str]] = {AnnexIIIOrigin.ENFORCING_AUTHORITY: {"enforcing_authority": "objected"},
                                           AnnexIIIOrigin.CALLBACK_NOT_CONFIRMED: {"callback": "not_confirmed"}}
EA_GROUND_BASIS = "Reg. (EU) 2023/1543 Art. 10(2), 12(1)"
NOT_VERIFIED_TEXT = ("The request could not be confirmed through the authority's registered switchboard number; "
                     "it is not executed. The authority may contact the provider's legal team.")


def _is_partial(decided: dict[str, Any], cleaned: list[dict[str, Any]], target_count: int) -> bool:
    """Whether some data category or target of the request is still executed."""
    if any(item.get("target") is None and item.get("data_category") is None for item in cleaned):
        return False
    categories = decided.get("categories") or []
    if categories:
        # Executed somewhere: one (target, category) pair still allowed. A target without its own
        # row follows its category's verdict.
        own = {row["index"]: row["categories"] for row in decided.get("targets") or []}
        if target_count == 0:
            return any(row["allowed"] for row in categories)
        return any(c["allowed"] for index in range(target_count) for c in own.get(index, categories))
    # No data category (e.g. a removal order): partial unless every identifier is covered.
    covered = {item["target"] for item in cleaned if item.get("target") is not None}
    return not covered.issuperset(range(target_count))


def _draft(*, actor: Any, request: LegalRequest, kind: str, cleaned: list[dict[str, Any]],
           **fields: Any) -> AnnexIII:
    """Sign a deciding Annex III as a draft: nothing reaches the authority and the state stays
    until a second member of the legal team approves this exact draft (``refusal_approve``).
    A newer draft supersedes the pending one (its approval, if on its way, is then refused)."""
    with transaction.atomic():
        locked = _lock(request)
        if _OUTCOME[kind] not in allowed_targets(locked.lifecycle, locked.status):
            raise InvalidState(f"{locked.reference} is {locked.status}: it cannot be "
                               f"{_RESOLUTION[kind].replace('_', ' ')} now.")
        signed = _signed(locked, actor, cleaned)
        partial = kind == AnnexIIIKind.NON_EXECUTION and _is_partial(signed["decided"], cleaned,
                                                                     locked.targets.count())
        now = timezone.now()
        superseded = list(AnnexIII.objects.select_for_update()
                          .filter(request=locked, kind__in=DECIDING_KINDS, sent_at__isnull=True,
                                  superseded_at__isnull=True).values_list("pk", flat=True))
        AnnexIII.objects.filter(pk__in=superseded).update(superseded_at=now)
        form = AnnexIII.objects.create(request=locked, kind=kind, reasons=cleaned, created_by=actor,
                                       partial=partial, **fields, **signed)
        audit.record("annex_iii.drafted", actor=actor, request=locked, obj=form, authority_id=locked.authority_id,
                     data={"annex_iii_id": form.pk, "kind": kind, "partial": partial, "origin": form.origin,
                           "sha256": annex_iii_digest(form), "superseded": superseded})
        outbox.enqueue("notify.annex_iii_approval_needed", request=locked, payload={"annex_iii_id": form.pk})
    return form


def not_executed(*, actor: Any, request: LegalRequest, reasons: list[dict[str, Any]],
                 conflicting_obligations: str = "", data_preserved: bool = False,
                 preserved_until: Any = None) -> AnnexIII:
    """A person of the legal team decides and signs the non-execution (Annex III of Reg. (EU)
    2023/1543, Art. 10(5)-(8), 11(4)-(5); for US and DSA orders the same structured record):
    reasons and free text per identifier and data category, usually edited from the engine's
    draft (``refusal_proposal``). Items naming only some data categories or targets make a
    *partial* non-execution: the rest of the request continues to production.

    The form is a draft until a second person approves it (``refusal_approve``); only then are
    the record and its PDF available to the authority in the portal, with an e-mail notice
    (``notify.decision``). Only a person may do this: the guard of ``transition`` refuses
    ``not_executed`` to every automatic actor."""
    require(actor, "review", request)
    cleaned = _clean_reasons(reasons)
    if not cleaned:
        raise ServiceError("Give the Annex III reasons for each identifier.")
    return _draft(actor=actor, request=request, kind=AnnexIIIKind.NON_EXECUTION, cleaned=cleaned,
                  conflicting_obligations=conflicting_obligations, data_preserved=data_preserved,
                  preserved_until=preserved_until)


def _whole_order(cleaned: list[dict[str, Any]], text: str, reason: str) -> list[dict[str, Any]]:
    """A refusal or a rerouting concerns the whole order: keep the person's items and make
    sure one covers every identifier and category (the free text is its explanation)."""
    if any(item.get("target") is None and item.get("data_category") is None for item in cleaned):
        return cleaned
    return [{"identifier": "", "data_category": None, "reasons": [reason], "explanation": text}, *cleaned]


def request_refuse(*, actor: Any, request: LegalRequest, reason: str,
                   reasons: list[dict[str, Any]] | None = None, conflicting_obligations: str = "") -> AnnexIII:
    """Refuse on grounds (Art. 10(5), 12, 16 of Reg. (EU) 2023/1543; the provider's grounds for
    other instruments): a signed Annex III draft with the reasons, sent after four eyes."""
    require(actor, "review", request)
    if not reason.strip():
        raise ServiceError("Give the reason for the refusal.")
    cleaned = _whole_order(_clean_reasons(reasons or []), reason.strip(), v.AIII_OTHER)
    return _draft(actor=actor, request=request, kind=AnnexIIIKind.REFUSAL, cleaned=cleaned,
                  conflicting_obligations=conflicting_obligations)


def request_reroute(*, actor: Any, request: LegalRequest, where: str,
                    reasons: list[dict[str, Any]] | None = None) -> AnnexIII:
    """Not this route (domestic order, Denmark, MLA...): tell the authority where to go, with a
    signed Annex III draft (provider not covered / other reasons), sent after four eyes."""
    require(actor, "review", request)
    if not where.strip():
        raise ServiceError("Say which route the authority should use.")
    cleaned = _whole_order(_clean_reasons(reasons or []), f"Route to use: {where.strip()}", v.AIII_OTHER)
    return _draft(actor=actor, request=request, kind=AnnexIIIKind.REROUTE, cleaned=cleaned, route_to=where.strip())


def _apply_partial(locked: LegalRequest, form: AnnexIII) -> None:
    """Write what a partial non-execution decides into the request's decision: the categories
    and targets not executed are no longer allowed (``reason_code`` the Annex III reason)."""
    decision = dict(locked.decision or {})
    decided = form.decided or {}
    blocked = {row["data_category"]: row for row in decided.get("categories", []) if not row["allowed"]}
    categories = []
    for row in decision.get("categories") or decision.get("verdicts") or []:
        row = dict(row)
        if row.get("data_category") in blocked:
            verdict = blocked[row["data_category"]]
            row.update(allowed=False, reason_code=verdict["reason_code"], rule_id="annex_iii",
                       legal_basis=verdict["legal_basis"])
        categories.append(row)
    all_blocked = {row["index"]: row for row in decided.get("targets", [])
                   if row["categories"] and not any(c["allowed"] for c in row["categories"])}
    covered = {item["target"] for item in form.reasons
               if item.get("target") is not None and item.get("data_category") is None}
    targets = []
    for row in decision.get("targets") or []:
        row = dict(row)
        index = row.get("index")
        if index in all_blocked or index in covered:
            item = next((i for i in form.reasons if i.get("target") == index), None)
            row.update(allowed=False, reason_code=(item["reasons"][0] if item else v.AIII_OTHER),
                       legal_basis=(all_blocked[index]["categories"][0]["legal_basis"] if index in all_blocked
                                    else "; ".join(item.get("legal_basis", []) if item else [])))
        targets.append(row)
    decision["categories"] = categories
    decision["targets"] = targets
    decision["partial_non_execution"] = {"annex_iii_id": form.pk, "decided": decided}
    locked.decision = decision
    locked.save(update_fields=["decision", "updated_at"])


def refusal_approve(*, actor: Any, request: LegalRequest, annex_iii_id: int, digest: str,
                    note: str = "") -> AnnexIII:
    """Four eyes on a refusal: a second member of the legal team approves the Annex III draft
    they saw, named by its id and the SHA-256 of its content (``annex_iii_digest``). Refused
    (and audited) when the approver signed the draft, or when the newest draft is another one
    or its content changed. Only then is the form sent (portal + e-mail notice) and the
    request closed as not executed / refused / rerouted; a partial non-execution keeps the
    request in its working state and records which categories and targets are not executed."""
    require(actor, "approve", request)
    # The moment of the approval is taken before the lock: the enforcing authority's PDF shows
    # it and is rendered from the draft as it will be approved, before the lock is taken
    # (``enforcing_authority_copy.prerender_copy``); the draft saved inside the lock carries the same moment.
    now = timezone.now()
    seen = (AnnexIII.objects.select_related("request__authority", "request__submitted_by", "signed_by")
            .filter(pk=annex_iii_id, request=request, kind__in=DECIDING_KINDS, sent_at__isnull=True,
                    superseded_at__isnull=True).first())
    prerendered = None
    if seen is not None and seen.signed_by_id != actor.pk and annex_iii_digest(seen) == digest:
        seen.approved_by, seen.approved_at, seen.sent_at = actor, now, now
        prerendered = prerender_copy(seen)
    with transaction.atomic():
        locked = _lock(request)
        form = (AnnexIII.objects.select_for_update()
                .filter(request=locked, kind__in=DECIDING_KINDS, sent_at__isnull=True, superseded_at__isnull=True)
                .order_by("-created_at", "-pk").first())
        if form is None:
            done = AnnexIII.objects.filter(pk=annex_iii_id, request=locked, approved_by__isnull=False).first()
            if done is not None and done.approved_by is not None:
                raise ServiceError(f"This Annex III was already approved by {done.approved_by.email} meanwhile; "
                                   f"nothing more to do.", code="conflict")
            raise InvalidState("There is no drafted Annex III awaiting approval.")
        own = form.signed_by_id == actor.pk
        current = annex_iii_digest(form)
        stale = form.pk != annex_iii_id or current != digest
        if own:
            # Committed with this block (no exception inside it), so the refused attempt is on record.
            audit.record("approval.refused_four_eyes", actor=actor, request=locked, authority_id=locked.authority_id,
                         data={"annex_iii_id": form.pk})
            outbox.enqueue("alert.four_eyes_refused", request=locked,
                           payload={"actor_id": actor.pk, "annex_iii_id": form.pk})
        elif stale:
            audit.record("approval.refused_stale", actor=actor, request=locked, authority_id=locked.authority_id,
                         data={"annex_iii_id_seen": annex_iii_id, "annex_iii_id_newest": form.pk,
                               "sha256_seen": digest, "sha256_newest": current})
        else:
            form.approved_by, form.approved_at, form.sent_at = actor, now, now
            form.save(update_fields=["approved_by", "approved_at", "sent_at"])
            audit.record("annex_iii.approved", actor=actor, request=locked, obj=form,
                         authority_id=locked.authority_id,
                         data={"annex_iii_id": form.pk, "kind": form.kind, "partial": form.partial,
                               "sha256": current, "signed_by": form.signed_by_id, "note": note.strip()[:2000],
                               # Art. 8: the enforcing authority receives the form too where it was notified.
                               "enforcing_authority_copy": bool(locked.enforcing_authority_notified)})
            if form.partial:
                _apply_partial(locked, form)
                audit.record("request.partially_not_executed", actor=actor, request=locked, obj=form,
                             authority_id=locked.authority_id,
                             data={"annex_iii_id": form.pk, "status": locked.status})
            else:
                codes = "; ".join(sorted({r for item in form.reasons for r in item["reasons"]}))
                whole = next((i for i in form.reasons if i.get("target") is None and i.get("data_category") is None
                              and i.get("explanation")), None)
                # A refusal or a rerouting reads as its grounds / its route; a non-execution as its reasons.
                reason = form.route_to or (whole["explanation"] if whole and form.kind == AnnexIIIKind.REFUSAL
                                           else codes)
                _move(locked, _OUTCOME[form.kind], actor=actor,
                      resolution=_ORIGIN_RESOLUTION.get(form.origin) or _RESOLUTION[form.kind],
                      reason=reason[:2000],
                      data={"annex_iii_id": form.pk, "signed_by": form.signed_by_id,
                            **_ORIGIN_DATA.get(form.origin, {})})
                timers.cancel(locked)
            payload: dict[str, Any] = {"annex_iii_id": form.pk}
            if form.route_to:
                payload["where"] = form.route_to
            outbox.enqueue("notify.decision", request=locked, payload=payload)
            copy_to_enforcing_authority(request=locked, form=form, actor=actor, prerendered=prerendered)
    if own:
        raise ServiceError("Four eyes: the approver cannot be the person who signed the Annex III.",
                           code="four_eyes")
    if stale:
        raise ServiceError("The Annex III draft changed since you opened it: review the newest draft and "
                           "approve again.", code="stale_draft")
    return form


def emergency_callback_record(*, actor: Any, request: LegalRequest, outcome: str, person_reached: str = "",
                              notes: str = "") -> CallbackVerification:
    """Record the call-back to the authority's switchboard from its registry record.

    The number is never taken from the request: a forged emergency request from a hacked
    police mailbox carries the attacker's number. Confirmed → the request is worked;
    not confirmed → the legal team alerted, the submitting account held pending review (tokens
    revoked, sessions ended), the authority's administrators told neutrally, and a refusal
    signed by the caller as an Annex III draft: the request stays held until a second member of
    the legal team approves it (``refusal_approve``), then closes as refused (resolution
    ``not_verified``, neutral for the authority).
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
            # A draft refusal from an earlier unconfirmed call is void once the switchboard confirms.
            voided = list(AnnexIII.objects.select_for_update()
                          .filter(request=locked, origin=AnnexIIIOrigin.CALLBACK_NOT_CONFIRMED, sent_at__isnull=True,
                                  superseded_at__isnull=True).values_list("pk", flat=True))
            if voided:
                AnnexIII.objects.filter(pk__in=voided).update(superseded_at=timezone.now())
            target = Status.PRESERVING if locked.lifecycle == "preservation" else Status.IN_REVIEW
            _move(locked, target, actor=actor, reason="call-back confirmed the request",
                  data={"superseded": voided} if voided else None)
            # The officer waits for this call; the rest of the team stops trying to call.
            outbox.enqueue("notify.callback_confirmed", request=locked,
                           payload={"callback_id": call.pk, "actor_id": actor.pk})
        elif outcome == CallbackOutcome.NOT_CONFIRMED:
            # The protective steps are immediate: the legal team hears the suspicion, the
            # submitting account is held. The refusal is a person's decision under four eyes:
            # the caller signs it as an Annex III draft (neutral for the authority) and the
            # request stays held until a second member of the legal team approves it.
            outbox.enqueue("alert.suspected_fraud", request=locked,
                           payload={"callback_id": call.pk, "actor_id": actor.pk})
            _draft(actor=actor, request=locked, kind=AnnexIIIKind.REFUSAL,
                   cleaned=[{"identifier": "", "data_category": None, "reasons": [v.AIII_OTHER],
                             "explanation": NOT_VERIFIED_TEXT}],
                   origin=AnnexIIIOrigin.CALLBACK_NOT_CONFIRMED)
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


def ea_object(*, actor: Any, request: LegalRequest, grounds: str,
              reasons: list[dict[str, Any]] | None = None) -> AnnexIII:
    """The enforcing authority raised a ground for refusal (Reg. (EU) 2023/1543 Art. 10(2),
    12): the data must not be transferred. The member of the legal team who records it signs
    the refusal as an Annex III draft (the grounds as its explanation; ``reasons`` per category
    or target if given); a second member approves that exact draft (``refusal_approve``) and
    only then is the request refused (resolution ``refused_by_enforcing_authority``) and the
    form sent. Meanwhile the request stays awaiting the enforcing authority: its window no
    longer ends by itself (nothing may be produced on its expiry)."""
    require(actor, "review", request)
    if not grounds.strip():
        raise ServiceError("Record the grounds the enforcing authority raised.")
    text = f"Ground for refusal raised by the enforcing authority: {grounds.strip()}"
    cleaned = _clean_reasons(reasons or [])
    if not any(item.get("target") is None and item.get("data_category") is None for item in cleaned):
        cleaned = [{"identifier": "", "data_category": None, "reasons": [v.AIII_OTHER], "explanation": text,
                    "legal_basis": [EA_GROUND_BASIS]}, *cleaned]
    with transaction.atomic():
        locked = _lock(request)
        if locked.status != Status.AWAITING_ENFORCING_AUTHORITY:
            raise InvalidState(f"{locked.reference} is {locked.status}: only a request awaiting the enforcing "
                               f"authority can record its ground for refusal.")
        form = _draft(actor=actor, request=locked, kind=AnnexIIIKind.REFUSAL, cleaned=cleaned,
                      origin=AnnexIIIOrigin.ENFORCING_AUTHORITY)
        audit.record("enforcing_authority.objected", actor=actor, request=locked, obj=form,
                     authority_id=locked.authority_id,
                     data={"annex_iii_id": form.pk, "grounds": grounds.strip()[:2000]})
        timers.cancel(locked, kinds=[timers.TimerKind.EA_WINDOW_END])
    return form


def enforcing_authority_contact(*, actor: Any, request: LegalRequest, email: str) -> LegalRequest:
    """Record (or correct) the e-mail address of the enforcing authority notified under Art. 8(1),
    e.g. from the notification's copy the provider received: the Annex III copies go there."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    require(actor, "review", request)
    address = email.strip()
    try:
        validate_email(address)
    except ValidationError as exc:
        raise ServiceError("Give a valid e-mail address of the enforcing authority.",
                           fields={"email": ["invalid"]}) from exc
    with transaction.atomic():
        locked = _lock(request)
        if not locked.enforcing_authority_notified:
            raise InvalidState(f"{locked.reference}: the order states no notification of an enforcing authority "
                               f"(Art. 8); there is nobody to send a copy to.")
        previous = locked.enforcing_authority_email
        locked.enforcing_authority_email = address
        locked.save(update_fields=["enforcing_authority_email", "updated_at"])
        audit.record("request.enforcing_authority_contact", actor=actor, request=locked,
                     authority_id=locked.authority_id, data={"from": previous, "to": address})
    return locked


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
        outbox.enqueue("alert.four_eyes_refused", request=request, payload={"actor_id": actor.pk})
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
            outbox.enqueue("alert.four_eyes_refused", request=locked,
                           payload={"actor_id": actor.pk, "package_id": package.pk})
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
