"""Scheduling, cancelling and re-scheduling timers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portal import compiled

from ..models import LegalRequest
from ..models.timers import Timer, TimerKind

K = TimerKind

# Deadlines of the rules that are the request's main "due" time, best first.
PRIMARY_KINDS = (K.PRODUCTION_DUE, K.EMERGENCY_TRIAGE_DUE, K.DSA_EFFECT_REPORT_DUE, K.DSA_RECEIPT_ACK_DUE,
                 K.PRESERVATION_EXPIRY, K.ANNEX_III_DUE)

# Timers that measure the production period: paused while a clarification is pending
# (Reg. 2023/1543 Art. 10(4)-(5): the period restarts when the clarification arrives).
DEADLINE_KINDS = frozenset({K.DEADLINE_WARN, K.DEADLINE_BREACH, K.DEADLINE_DUE, K.PRODUCTION_DUE, K.ANNEX_III_DUE})


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else parse_datetime(str(value))  # type: ignore[return-value]


def _open(request: LegalRequest) -> Any:
    return Timer.objects.filter(request=request, fired_at__isnull=True, cancelled_at__isnull=True)


def levels(request: LegalRequest, start: datetime, due: datetime) -> tuple[datetime, datetime]:
    """When the queue badges turn to warn and breach: shares of the period per lifecycle."""
    config = settings.DEADLINE_LEVELS.get(request.lifecycle, {"warn": 0.7, "breach": 0.9})
    period = due - start
    return start + period * config["warn"], start + period * config["breach"]


def schedule(request: LegalRequest, kind: str, due_at: datetime, payload: dict[str, Any] | None = None) -> None:
    """One timer; a live one of the same kind and instant already there is kept."""
    Timer.objects.bulk_create([Timer(request=request, kind=TimerKind(kind), due_at=due_at, payload=payload or {})],
                              ignore_conflicts=True)


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
        rows.append(Timer(request=request, kind=TimerKind(deadline["kind"]), due_at=_as_datetime(deadline["due_at"]),
                          payload={"explanation": deadline.get("explanation", ""),
                                   "informational": bool(deadline.get("informational"))}))
        if deadline.get("not_before"):
            fields["hold_until"] = _as_datetime(deadline["due_at"])
    expiry = by_kind.get(K.PRESERVATION_EXPIRY)
    if expiry is not None:
        # Tell the authority before the data are released (before day 60, and day 90 if extended).
        notice = _as_datetime(expiry["due_at"]) - timedelta(days=settings.PRESERVATION_NOTICE_DAYS)
        if notice > start:
            rows.append(Timer(request=request, kind=K.PRESERVATION_EXPIRY_NOTICE, due_at=notice,
                              payload={"expires_at": expiry["due_at"]}))
    if primary is not None:
        due = _as_datetime(primary["due_at"])
        warn, breach = levels(request, start, due)
        fields.update(due_at=due, warn_at=warn, breach_at=breach, deadline_explanation=primary.get("explanation", ""))
        rows += [
            Timer(request=request, kind=K.DEADLINE_WARN, due_at=warn, payload={"deadline": primary["kind"]}),
            Timer(request=request, kind=K.DEADLINE_BREACH, due_at=breach, payload={"deadline": primary["kind"]}),
            Timer(request=request, kind=K.DEADLINE_DUE, due_at=due, payload={"deadline": primary["kind"]}),
        ]
    # A live timer of the same kind at the same instant (one that already fired) is kept:
    # re-scheduling never fires a deadline twice. Cancelled rows do not count. The INSERT is
    # compiled once per row count (issue 9 item 5); the ORM's bulk_create(ignore_conflicts=True).
    compiled.insert_ignoring_conflicts(Timer, rows)
    return fields


def cancel(request: LegalRequest, *, kinds: Iterable[str] | None = None, keep: Iterable[str] = ()) -> int:
    """Cancel the request's open timers (of ``kinds`` if given, except ``keep``); the count."""
    rows = _open(request)
    if kinds is not None:
        rows = rows.filter(kind__in=list(kinds))
    return rows.exclude(kind__in=list(keep)).update(cancelled_at=timezone.now())


def pause_deadlines(request: LegalRequest) -> int:
    """A clarification was requested: the production period's timers stop."""
    return cancel(request, kinds=DEADLINE_KINDS)


def reschedule_deadlines(request: LegalRequest, deadlines: list[dict[str, Any]], *, start: datetime,
                         keep: Iterable[str] = ()) -> dict[str, Any]:
    """Replace the open timers (but ``keep``) by those of ``deadlines``; the request fields to save."""
    cancel(request, keep=keep)
    return schedule_deadlines(request, deadlines, start=start)
