"""Recomputing the deadlines of open requests when the provider's configuration changes
(e.g. the calendar rule of a legal basis, or the establishment's member state).

Each stored decision records the fingerprint of the configuration it was computed under;
requests whose fingerprint differs are recomputed with the pure engine and their open
timers replaced. Runs from ``manage.py recompute_deadlines`` (on deploy) and hourly in beat.
"""

from __future__ import annotations

from django.db import transaction

from audit import trail as audit

from ..codec import facts_from_request
from ..models import LegalRequest, MessageKind
from ..provider import config_fingerprint, provider_config
from ..rules import recompute_deadlines
from ..states import TERMINAL_STATES, Status
from ..timers import TimerKind, reschedule_deadlines

# States whose deadlines are running (not paused by a clarification, not yet validated).
RUNNING = [s for s in Status.values if s not in TERMINAL_STATES and s not in {
    Status.RECEIVED, Status.VALIDATING, Status.CLARIFICATION_REQUESTED, Status.PRODUCED}]


def stale_requests(fingerprint: str, limit: int = 500) -> list[int]:
    return list(
        LegalRequest.objects.filter(status__in=RUNNING, decision__isnull=False)
        .exclude(decision__config_fingerprint=fingerprint)
        .values_list("pk", flat=True)[:limit]
    )


def recompute_one(request_id: int, fingerprint: str) -> bool:
    with transaction.atomic():
        request = LegalRequest.objects.select_for_update(of=("self",)).select_related(
            "authority", "linked_request").get(pk=request_id)
        if request.status not in RUNNING or (request.decision or {}).get("config_fingerprint") == fingerprint:
            return False
        answer = request.messages.filter(kind=MessageKind.CLARIFICATION_ANSWER).order_by("-created_at", "-pk").first()
        start = answer.created_at if answer else request.received_at
        deadlines = recompute_deadlines(facts_from_request(request), provider_config(),
                                        period_start=answer.created_at if answer else None)
        old_due = request.due_at
        fields = reschedule_deadlines(request, [d.to_dict() for d in deadlines], start=start,
                                      keep=[TimerKind.RESPONSE_PURGE])
        decision = dict(request.decision or {})
        decision.update(deadlines=[d.to_dict() for d in deadlines], config_fingerprint=fingerprint)
        for name, value in {**fields, "decision": decision}.items():
            setattr(request, name, value)
        request.save(update_fields=[*fields, "decision", "updated_at"])
        audit.record("request.deadlines_recomputed", request=request, authority_id=request.authority_id,
                     data={"old_due_at": old_due, "new_due_at": request.due_at, "config": fingerprint})
    return True


def recompute_stale() -> int:
    fingerprint = config_fingerprint()
    done = 0
    while ids := stale_requests(fingerprint):
        changed = sum(recompute_one(pk, fingerprint) for pk in ids)
        done += changed
        if not changed:
            break
    return done
