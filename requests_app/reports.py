"""Transparency reporting: per country and instrument, what was asked and what was done.

Covers the counts big platforms publish (requests, accounts specified, share where some data
were produced, emergency requests, preservation; domain.md §5.3) and DSA Art. 15(1)(a):
orders by member state and type, with the median time to inform the authority of receipt
and to give effect (domain.md §5.1). Times come from the audit trail, the system of record.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import median
from typing import Any

from django.db.models import Count

from audit.models import AuditEvent

from .models import LegalRequest, Target
from .states import Status

# First decision after intake = the authority is informed of receipt and of the assessment.
ACKNOWLEDGED = {Status.IN_REVIEW, Status.CLARIFICATION_REQUESTED, Status.NOT_EXECUTED, Status.REROUTED,
                Status.VERIFICATION_HOLD, Status.AWAITING_ENFORCING_AUTHORITY, Status.PRESERVING}
REFUSED = {Status.NOT_EXECUTED, Status.REFUSED, Status.REROUTED}
COLUMNS = ["country", "instrument", "received", "accounts_specified", "emergency", "produced", "preserving_or_released",
           "refused_or_not_executed", "withdrawn", "open", "share_with_data_produced",
           "median_hours_to_acknowledge", "median_hours_to_effect"]


def _hours(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / 3600


def _first_times(request_ids: list[int]) -> tuple[dict[int, datetime], dict[int, datetime]]:
    acknowledged: dict[int, datetime] = {}
    produced: dict[int, datetime] = {}
    events = AuditEvent.objects.filter(request_id__in=request_ids, action="request.status_changed").order_by("seq")
    for request_id, at, data in events.values_list("request_id", "occurred_at", "data"):
        if request_id is None:
            continue
        to = data.get("to")
        if to in ACKNOWLEDGED:
            acknowledged.setdefault(request_id, at)
        if to == Status.PRODUCED:
            produced.setdefault(request_id, at)
    return acknowledged, produced


def transparency_rows(start: datetime, end: datetime) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = [dict(r) for r in LegalRequest.objects.filter(
        received_at__gte=start, received_at__lt=end).values("pk", "country", "instrument", "status", "emergency",
                                                              "received_at")]
    ids = [r["pk"] for r in requests]
    targets = dict(Target.objects.filter(request_id__in=ids).values_list("request_id").annotate(n=Count("id")))
    acknowledged, produced = _first_times(ids)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in requests:
        groups[(row["country"], row["instrument"])].append(row)
    rows = []
    for (country, instrument), items in sorted(groups.items()):
        ack = [h for r in items if (h := _hours(r["received_at"], acknowledged.get(r["pk"]))) is not None]
        effect = [h for r in items if (h := _hours(r["received_at"], produced.get(r["pk"]))) is not None]
        n_produced = sum(r["pk"] in produced for r in items)
        decided = sum(r["status"] in REFUSED for r in items) + n_produced
        rows.append({
            "country": country,
            "instrument": instrument,
            "received": len(items),
            "accounts_specified": sum(targets.get(r["pk"], 0) for r in items),
            "emergency": sum(r["emergency"] for r in items),
            "produced": n_produced,
            "preserving_or_released": sum(r["status"] in {Status.PRESERVING, Status.RELEASED} for r in items),
            "refused_or_not_executed": sum(r["status"] in REFUSED for r in items),
            "withdrawn": sum(r["status"] == Status.WITHDRAWN for r in items),
            "open": sum(r["status"] not in REFUSED | {Status.WITHDRAWN, Status.CLOSED, Status.RELEASED}
                        and r["pk"] not in produced for r in items),
            "share_with_data_produced": round(n_produced / decided, 3) if decided else None,
            "median_hours_to_acknowledge": round(median(ack), 2) if ack else None,
            "median_hours_to_effect": round(median(effect), 2) if effect else None,
        })
    return rows
