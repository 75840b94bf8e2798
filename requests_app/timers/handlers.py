"""What happens when a timer falls due: one handler per ``TimerKind``.

A handler runs inside the firing transaction (``firing.fire``); if it raises, its effects
are rolled back and the timer is retried. Handlers re-check the request's state: a timer
whose reason is gone does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from outbox import relay as outbox

from ..models import LegalRequest, ResponsePackage
from ..models.timers import Timer, TimerKind
from ..states import Status
from ..workflow import TransitionGuardFailed, TransitionNotAllowed, lock_request, transition

log = logging.getLogger(__name__)
K = TimerKind

Handler = Callable[[Timer], None]
HANDLERS: dict[str, Handler] = {}


def handles(*kinds: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for kind in kinds:
            HANDLERS[kind] = func
        return func

    return register


def _try_move(request: LegalRequest, target: str, reason: str, **kwargs: Any) -> bool:
    try:
        transition(lock_request(request), target, reason=reason, **kwargs)
        return True
    except (TransitionNotAllowed, TransitionGuardFailed) as exc:
        log.info("timer move skipped: %s", exc)
        return False


@handles(K.EA_WINDOW_END)
def _ea_window_end(timer: Timer) -> None:
    """Art. 10(2): no ground raised within 10 days → the data may be produced at the end."""
    request = timer.request
    if request.status == Status.AWAITING_ENFORCING_AUTHORITY and _try_move(
        request, Status.IN_REVIEW, "the enforcing authority's window ended without a ground for refusal"
    ):
        outbox.enqueue("notify.ea_window_ended", request=request)


@handles(K.PRESERVATION_EXPIRY)
def _preservation_expiry(timer: Timer) -> None:
    """Art. 11(1): preservation ceases at 60 (or 90) days unless production was confirmed."""
    request = timer.request
    if request.status == Status.PRESERVING:
        _try_move(request, Status.RELEASED, "the preservation period ended", resolution="preservation_expired")
        outbox.enqueue("notify.decision", request=request)


@handles(K.PRESERVATION_EXPIRY_NOTICE)
def _preservation_expiry_notice(timer: Timer) -> None:
    if timer.request.status == Status.PRESERVING:
        outbox.enqueue("notify.preservation_expiring", request=timer.request,
                       payload={"expires_at": timer.payload.get("expires_at")},
                       dedup_key=f"preservation-notice-{timer.pk}")


@handles(K.DEADLINE_WARN, K.DEADLINE_BREACH, K.DEADLINE_DUE)
def _deadline_alert(timer: Timer) -> None:
    if timer.request.is_open and timer.request.status not in {Status.CLARIFICATION_REQUESTED}:
        level = timer.kind.removeprefix("deadline_")
        outbox.enqueue(f"alert.deadline_{level}", request=timer.request, payload={"timer_id": timer.pk},
                       dedup_key=f"deadline-{level}-{timer.pk}")


@handles(K.RELEASE_DUE)
def _release_due(timer: Timer) -> None:
    """An approval given during a hold takes effect when the hold ends."""
    from django.contrib.auth import get_user_model

    from ..services.delivery import response_release

    approver = get_user_model().objects.filter(pk=timer.payload.get("approver_id")).first()
    if timer.request.status == Status.APPROVED and approver is not None:
        response_release(actor=approver, request=timer.request)


@handles(K.RESPONSE_PURGE)
def _response_purge(timer: Timer) -> None:
    from ..services.delivery import response_purge

    package = ResponsePackage.objects.filter(pk=timer.payload.get("package_id")).first()
    if package is not None:
        response_purge(package=package)


@handles(K.CLARIFICATION_REMINDER, K.ART17_OBJECTION_DUE, K.DSA_RECEIPT_ACK_DUE, K.DSA_EFFECT_REPORT_DUE,
         K.EMERGENCY_TRIAGE_DUE, K.ANNEX_III_DUE, K.PRODUCTION_DUE, K.DSA_ART18_REFERRAL_DUE,
         K.EA_OBJECTION_WINDOW_END)
def _reminder(timer: Timer) -> None:
    if timer.request.is_open:
        outbox.enqueue("alert.reminder", request=timer.request, payload={"kind": timer.kind},
                       dedup_key=f"reminder-{timer.pk}")


@handles(K.EX_POST_VALIDATION_MARK, K.ART17_OBJECTION_WARN)
def _information_only(timer: Timer) -> None:
    """Art. 4(5): the 48 hours are the issuing authority's duty; recorded, no state change."""


def handler_for(kind: str) -> Handler:
    return HANDLERS.get(kind, _information_only)
