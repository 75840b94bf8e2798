"""Deadlines as rows: scheduling them from a decision, and what happens when one falls due.

``schedule_deadlines`` turns the deadlines of a rules decision into ``Timer`` rows and the
request's ``due_at`` / ``warn_at`` / ``breach_at`` / ``hold_until`` columns. The beat task
``fire_due_timers`` claims each due row once (a conditional UPDATE) and runs its handler in
the same transaction, so a redelivered or concurrent sweep never fires a timer twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import audit, outbox
from .models import LegalRequest, ResponsePackage, Timer
from .states import Status
from .workflow import TransitionGuardFailed, TransitionNotAllowed, transition

log = logging.getLogger(__name__)

# Deadlines of the rules that are the request's main "due" time, best first.
PRIMARY_KINDS = ("production_due", "emergency_triage_due", "dsa_effect_report_due", "dsa_receipt_ack_due",
                 "preservation_expiry", "annex_iii_due")


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else parse_datetime(str(value))  # type: ignore[return-value]


def levels(request: LegalRequest, start: datetime, due: datetime) -> tuple[datetime, datetime]:
    """When the queue badges turn to warn and breach: shares of the period per lifecycle."""
    config = settings.DEADLINE_LEVELS.get(request.lifecycle, {"warn": 0.7, "breach": 0.9})
    period = due - start
    return start + period * config["warn"], start + period * config["breach"]


def schedule_deadlines(request: LegalRequest, deadlines: list[dict[str, Any]], *, start: datetime) -> dict[str, Any]:
    """Timer rows for each deadline; returns the request fields to save with the move."""
    fields: dict[str, Any] = {"due_at": None, "warn_at": None, "breach_at": None, "hold_until": None,
                              "deadline_explanation": ""}
    by_kind = {d["kind"]: d for d in deadlines}
    primary = next((by_kind[k] for k in PRIMARY_KINDS if k in by_kind), None)
    if primary is None:
        primary = next((d for d in deadlines if not d.get("informational") and not d.get("not_before")), None)
    rows = []
    for deadline in deadlines:
        rows.append(Timer(request=request, kind=deadline["kind"], due_at=_as_datetime(deadline["due_at"]),
                          payload={"explanation": deadline.get("explanation", ""),
                                   "informational": bool(deadline.get("informational"))}))
        if deadline.get("not_before"):
            fields["hold_until"] = _as_datetime(deadline["due_at"])
    expiry = by_kind.get("preservation_expiry")
    if expiry is not None:
        # Tell the authority before the data are released (before day 60, and day 90 if extended).
        notice = _as_datetime(expiry["due_at"]) - timedelta(days=settings.PRESERVATION_NOTICE_DAYS)
        if notice > start:
            rows.append(Timer(request=request, kind="preservation_expiry_notice", due_at=notice,
                              payload={"expires_at": expiry["due_at"]}))
    if primary is not None:
        due = _as_datetime(primary["due_at"])
        warn, breach = levels(request, start, due)
        fields.update(due_at=due, warn_at=warn, breach_at=breach, deadline_explanation=primary.get("explanation", ""))
        rows += [
            Timer(request=request, kind="deadline_warn", due_at=warn, payload={"deadline": primary["kind"]}),
            Timer(request=request, kind="deadline_breach", due_at=breach, payload={"deadline": primary["kind"]}),
            Timer(request=request, kind="deadline_due", due_at=due, payload={"deadline": primary["kind"]}),
        ]
    Timer.objects.bulk_create(rows, ignore_conflicts=True)
    return fields


# --- handlers ------------------------------------------------------------------------------

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
        transition(request, target, reason=reason, **kwargs)
        return True
    except (TransitionNotAllowed, TransitionGuardFailed) as exc:
        log.info("timer move skipped: %s", exc)
        return False


@handles("ea_window_end")
def _ea_window_end(timer: Timer) -> None:
    """Art. 10(2): no ground raised within 10 days → the data may be produced at the end."""
    request = timer.request
    if request.status == Status.AWAITING_ENFORCING_AUTHORITY and _try_move(
        request, Status.IN_REVIEW, "the enforcing authority's window ended without a ground for refusal"
    ):
        outbox.enqueue("notify.ea_window_ended", request=request)


@handles("preservation_expiry")
def _preservation_expiry(timer: Timer) -> None:
    """Art. 11(1): preservation ceases at 60 (or 90) days unless production was confirmed."""
    request = timer.request
    if request.status == Status.PRESERVING:
        _try_move(request, Status.RELEASED, "the preservation period ended", resolution="preservation_expired")
        outbox.enqueue("notify.decision", request=request)


@handles("preservation_expiry_notice")
def _preservation_expiry_notice(timer: Timer) -> None:
    if timer.request.status == Status.PRESERVING:
        outbox.enqueue("notify.preservation_expiring", request=timer.request,
                       payload={"expires_at": timer.payload.get("expires_at")},
                       dedup_key=f"preservation-notice-{timer.pk}")


@handles("deadline_warn", "deadline_breach", "deadline_due")
def _deadline_alert(timer: Timer) -> None:
    if timer.request.is_open and timer.request.status not in {Status.CLARIFICATION_REQUESTED}:
        level = timer.kind.removeprefix("deadline_")
        outbox.enqueue(f"alert.deadline_{level}", request=timer.request, payload={"timer_id": timer.pk},
                       dedup_key=f"deadline-{level}-{timer.pk}")


@handles("release_due")
def _release_due(timer: Timer) -> None:
    """An approval given during a hold takes effect when the hold ends."""
    from django.contrib.auth import get_user_model

    from .services.delivery import response_release

    approver = get_user_model().objects.filter(pk=timer.payload.get("approver_id")).first()
    if timer.request.status == Status.APPROVED and approver is not None:
        response_release(actor=approver, request=timer.request)


@handles("response_purge")
def _response_purge(timer: Timer) -> None:
    from .services.delivery import response_purge

    package = ResponsePackage.objects.filter(pk=timer.payload.get("package_id")).first()
    if package is not None:
        response_purge(package=package)


@handles("clarification_reminder", "art17_objection_due", "dsa_receipt_ack_due", "dsa_effect_report_due",
         "emergency_triage_due", "annex_iii_due", "production_due", "dsa_art18_referral_due",
         "ea_objection_window_end")
def _reminder(timer: Timer) -> None:
    if timer.request.is_open:
        outbox.enqueue("alert.reminder", request=timer.request, payload={"kind": timer.kind},
                       dedup_key=f"reminder-{timer.pk}")


@handles("ex_post_validation_mark")
def _information_only(timer: Timer) -> None:
    """Art. 4(5): the 48 hours are the issuing authority's duty; recorded, no state change."""


def fire(timer_id: int, *, now: datetime | None = None) -> bool:
    """Claim and fire one timer; False when another sweep already did."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Timer.objects.filter(pk=timer_id, fired_at__isnull=True, cancelled_at__isnull=True).update(
            fired_at=now
        )
        if not claimed:
            return False
        timer = Timer.objects.select_related("request").get(pk=timer_id)
        HANDLERS.get(timer.kind, _information_only)(timer)
        audit.record("timer.fired", request=timer.request, obj=timer, authority_id=timer.request.authority_id,
                     data={"kind": timer.kind, "due_at": timer.due_at})
    return True


def fire_due(limit: int = 500) -> int:
    now = timezone.now()
    due = (Timer.objects.filter(due_at__lte=now, fired_at__isnull=True, cancelled_at__isnull=True)
           .order_by("due_at", "pk"))
    return sum(fire(timer_id, now=now) for timer_id in list(due.values_list("pk", flat=True)[:limit]))
