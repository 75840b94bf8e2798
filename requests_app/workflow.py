"""States are data: one transition table per lifecycle and one guarded ``transition()``.

Nothing else assigns ``LegalRequest.status`` (DESIGN.md §4.2). A move not in the table of
the request's lifecycle is refused with ``TransitionNotAllowed`` and leaves no trace.
The tables cover intake and validation fully; the legal review issue refines the review
part (guards for four eyes and the emergency call-back).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from . import audit
from .models import LegalRequest
from .states import TERMINAL_STATES, Lifecycle, Status

S = Status

# Moves every lifecycle shares: intake, validation, clarification, refusal.
_COMMON: dict[str, set[str]] = {
    S.RECEIVED: {S.VALIDATING},
    S.VALIDATING: {S.IN_REVIEW, S.CLARIFICATION_REQUESTED, S.NOT_EXECUTED, S.REROUTED},
    S.CLARIFICATION_REQUESTED: {S.VALIDATING, S.NOT_EXECUTED},
    S.IN_REVIEW: {S.CLARIFICATION_REQUESTED, S.NOT_EXECUTED, S.REFUSED, S.REROUTED},
    S.APPROVED: {S.PRODUCED},
    S.PRODUCED: {S.CLOSED},
}


def _table(extra: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    moves = {state: set(targets) for state, targets in _COMMON.items()}
    for state, targets in extra.items():
        moves.setdefault(state, set()).update(targets)
    # The authority may withdraw any open request (its own decision, no legal effect).
    for state in Status.values:
        if state not in TERMINAL_STATES:
            moves.setdefault(state, set()).add(S.WITHDRAWN)
    return {state: frozenset(targets) for state, targets in moves.items()}


TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    # EPOC (Reg. (EU) 2023/1543 Art. 10): 10 days, 8 hours in emergencies; traffic and
    # content wait for the enforcing authority (Art. 8, 10(2)); an emergency waits for the
    # call-back verification.
    Lifecycle.PRODUCTION: _table(
        {
            S.VALIDATING: {S.AWAITING_ENFORCING_AUTHORITY, S.VERIFICATION_HOLD},
            S.AWAITING_ENFORCING_AUTHORITY: {S.IN_REVIEW, S.OBJECTION_FILED},
            S.OBJECTION_FILED: {S.REFUSED, S.IN_REVIEW},
            S.VERIFICATION_HOLD: {S.IN_REVIEW, S.REFUSED},
            S.IN_REVIEW: {S.APPROVED, S.VERIFICATION_HOLD},
        }
    ),
    # EPOC-PR (Art. 11): preserve 60 days, +30 once (Annex VI), or until production (Annex V).
    Lifecycle.PRESERVATION: _table(
        {
            S.VALIDATING: {S.PRESERVING, S.VERIFICATION_HOLD},
            S.VERIFICATION_HOLD: {S.PRESERVING, S.REFUSED},
            S.IN_REVIEW: {S.PRESERVING},
            S.PRESERVING: {S.RELEASED, S.PRODUCED, S.CLOSED},
        }
    ),
    # DSA Art. 9/10: act on the order and report the effect.
    Lifecycle.DSA: _table({S.IN_REVIEW: {S.APPROVED}}),
    # US process (18 U.S.C. § 2703): review, approve, produce; objection if we contest.
    Lifecycle.US_PROCESS: _table(
        {S.IN_REVIEW: {S.APPROVED, S.OBJECTION_FILED}, S.OBJECTION_FILED: {S.REFUSED, S.IN_REVIEW}}
    ),
    # Voluntary emergency disclosure (18 U.S.C. § 2702(c)(4), provider policy): always
    # verified by call-back before anything is released.
    Lifecycle.EMERGENCY: _table(
        {
            S.VALIDATING: {S.VERIFICATION_HOLD},
            S.VERIFICATION_HOLD: {S.APPROVED, S.REFUSED},
            S.IN_REVIEW: {S.VERIFICATION_HOLD},
        }
    ),
}


class TransitionNotAllowed(Exception):
    def __init__(self, request: LegalRequest, target: str) -> None:
        self.current = request.status
        self.target = target
        super().__init__(f"{request.reference}: cannot move from {request.status} to {target}")


def allowed_targets(lifecycle: str, status: str) -> frozenset[str]:
    return TRANSITIONS[lifecycle].get(status, frozenset())


def transition(
    request: LegalRequest,
    target: str,
    *,
    actor: Any = None,
    reason: str = "",
    resolution: str = "",
    data: dict[str, Any] | None = None,
    extra_fields: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> LegalRequest:
    """Move ``request`` to ``target`` if its lifecycle allows it; return the locked row.

    Locks the row, re-reads the current state (the caller's copy may be stale), checks the
    table, saves with ``update_fields`` and writes the audit event, all in one transaction.
    ``extra_fields`` are saved with the move (decision, due_at, ...).
    """
    with transaction.atomic():
        locked = LegalRequest.objects.select_for_update().get(pk=request.pk)
        if target not in allowed_targets(locked.lifecycle, locked.status):
            raise TransitionNotAllowed(locked, target)
        previous = locked.status
        locked.status = target
        locked.status_changed_at = timezone.now()
        fields = ["status", "status_changed_at", "updated_at"]
        if resolution or target in TERMINAL_STATES:
            locked.resolution = resolution or target
            fields.append("resolution")
        for name, value in (extra_fields or {}).items():
            setattr(locked, name, value)
            fields.append(name)
        locked.save(update_fields=fields)
        audit.record(
            "request.status_changed",
            actor=actor,
            request=locked,
            data={"from": previous, "to": target, "reason": reason, **(data or {})},
            ip_address=ip_address,
            authority_id=locked.authority_id,
        )
    return locked
