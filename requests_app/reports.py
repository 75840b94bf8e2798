"""Transparency reporting: per country and instrument, what was asked and what was done.

Covers the counts big platforms publish (requests, accounts specified, share where some data
were produced, emergency requests, preservation; domain.md §5.3) and DSA Art. 15(1)(a):
orders by member state and type, with the median time to inform the authority of receipt
and to give effect (domain.md §5.1). Times come from the audit trail, the system of record.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from audit.models import AuditEvent

from .models import LegalRequest, Target
from .states import TERMINAL_STATES, DataCategory, Status

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


# --- The admin's transparency page (issue 13 item 6) ----------------------------------------
#
# The same outcomes as above, counted by the database (one aggregate query per breakdown) and
# made mutually exclusive, so that each breakdown adds up to what was received:
#   produced             data left at least once (a later withdrawal does not undo that);
#   preserved            preserved or released without production (an extension is no second
#                        preservation: it is its own instrument, preservation_extension);
#   refused_or_not_executed, withdrawn (before any production), closed_without_data, open.

OUTCOMES = ("produced", "preserved", "refused_or_not_executed", "withdrawn", "closed_without_data", "open")
FIGURES = ("received", "accounts_specified", "emergency", *OUTCOMES)
DIMENSIONS = ("country", "instrument", "data_category")


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # inclusive, local midnight in the provider's establishment zone
    end: datetime  # exclusive


def _zone() -> ZoneInfo:
    from .provider import provider_config

    return ZoneInfo(provider_config().establishment_time_zone)


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in the provider's establishment zone (an aware datetime)."""
    return datetime(day.year, day.month, day.day, tzinfo=_zone())


def period_of(kind: str, *, year: int | None = None, number: int | None = None, first: date | None = None,
              last: date | None = None) -> Period:
    """A reporting period: ``quarter`` (number 1-4), ``half`` (1-2), ``year``, or ``range``
    (first and last day, both inclusive). Days are the provider's civil days."""
    if kind == "range":
        if first is None or last is None:
            raise ValueError("A range needs a first and a last day.")
        if last < first:
            raise ValueError("The last day is before the first day.")
        return Period(f"{first.isoformat()} – {last.isoformat()}", local_midnight(first),
                      local_midnight(last + timedelta(days=1)))
    if year is None or not 2000 <= year <= 2100:
        raise ValueError("Give a year between 2000 and 2100.")
    if kind == "year":
        return Period(str(year), local_midnight(date(year, 1, 1)), local_midnight(date(year + 1, 1, 1)))
    months = {"quarter": 3, "half": 6}.get(kind)
    if months is None:
        raise ValueError(f"Unknown period {kind!r}: quarter, half, year or range.")
    count = 12 // months
    if number is None or not 1 <= number <= count:
        raise ValueError(f"A {kind} is numbered 1 to {count}.")
    first_month = (number - 1) * months + 1
    end_year, end_month = (year + 1, 1) if first_month + months > 12 else (year, first_month + months)
    label = f"{year} Q{number}" if kind == "quarter" else f"{year} H{number}"
    return Period(label, local_midnight(date(year, first_month, 1)), local_midnight(date(end_year, end_month, 1)))


def _produced_q() -> Q:
    return Q(Exists(AuditEvent.objects.filter(request_id=OuterRef("pk"), action="request.status_changed",
                                              data__to=Status.PRODUCED)))


def _figure_aggregates(prefix: str = "all__", extra: Q | None = None) -> dict[str, Any]:
    """Conditional counts of the FIGURES, each restricted by ``extra`` (a data category).
    Aliases are prefixed: an alias named like a column (``emergency``) would shadow it."""
    base = extra if extra is not None else Q()
    produced = Q(was_produced=True) | Q(status=Status.PRODUCED)
    no_data = ~produced
    refused = Q(status__in=REFUSED)
    outcome = {
        "produced": produced,
        "preserved": no_data & Q(status__in=[Status.PRESERVING, Status.RELEASED]),
        "refused_or_not_executed": no_data & refused,
        "withdrawn": no_data & Q(status=Status.WITHDRAWN),
        "closed_without_data": no_data & Q(status=Status.CLOSED),
        "open": no_data & ~Q(status__in=TERMINAL_STATES) & ~Q(status__in=[Status.PRESERVING]),
    }
    figures: dict[str, Any] = {
        f"{prefix}received": Count("pk", filter=base or None),
        f"{prefix}accounts_specified": Coalesce(Sum("n_targets", filter=base or None), 0),
        f"{prefix}emergency": Count("pk", filter=base & Q(emergency=True)),
    }
    for name, q in outcome.items():
        figures[f"{prefix}{name}"] = Count("pk", filter=base & q)
    return figures


def _received_in(period: Period) -> Any:
    targets = (Target.objects.filter(request_id=OuterRef("pk")).order_by().values("request_id")
               .annotate(n=Count("pk")).values("n"))
    return (LegalRequest.objects.filter(received_at__gte=period.start, received_at__lt=period.end).order_by()
            .annotate(was_produced=ExpressionWrapper(_produced_q(), output_field=BooleanField()),
                      n_targets=Coalesce(Subquery(targets, output_field=IntegerField()), 0)))


def transparency_figures(period: Period) -> dict[str, Any]:
    """The figures of a period by issuing country, instrument and data category, and in total.

    A request asking for two data categories counts once under each of them (the category
    breakdown does not add up to the total; the other two do)."""
    requests = _received_in(period)

    def grouped(column: str) -> list[dict[str, Any]]:
        rows = requests.values(column).annotate(**_figure_aggregates()).order_by(column)
        return [{column: r[column], **{f: r[f"all__{f}"] for f in FIGURES}} for r in rows]

    by_country, by_instrument = grouped("country"), grouped("instrument")
    per_category: dict[str, Any] = {}
    for code in DataCategory.values:
        per_category.update(_figure_aggregates(f"{code}__", Q(data_categories__regex=rf"(^|,){code}(,|$)")))
    totals_and_categories = requests.aggregate(**_figure_aggregates(), **per_category)
    by_category = [{"data_category": code, **{f: totals_and_categories[f"{code}__{f}"] for f in FIGURES}}
                   for code in DataCategory.values if totals_and_categories[f"{code}__received"]]
    total = {f: totals_and_categories[f"all__{f}"] for f in FIGURES}
    return {"period": {"label": period.label, "from": period.start.isoformat(), "to": period.end.isoformat(),
                       "time_zone": str(period.start.tzinfo)},
            "total": total, "country": by_country, "instrument": by_instrument, "data_category": by_category}


def band(value: int, threshold: int) -> int | str:
    """The small-count rule for publication: a count from 1 to ``threshold - 1`` is shown as the
    band "1–<threshold - 1>", so that no one authority's or person's case can be singled out."""
    if threshold > 1 and 0 < value < threshold:
        return f"1–{threshold - 1}"
    return value


def for_publication(figures: dict[str, Any], threshold: int) -> dict[str, Any]:
    """The figures with every count under the threshold shown as a band."""
    def rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: band(v, threshold) if k in FIGURES else v for k, v in item.items()} for item in items]

    return {**figures, "small_count_threshold": threshold,
            "total": {k: band(v, threshold) for k, v in figures["total"].items()},
            **{d: rows(figures[d]) for d in DIMENSIONS}}


def figures_csv(figures: dict[str, Any]) -> str:
    """One CSV: a row per breakdown and key, then the total."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["period", "breakdown", "key", *FIGURES])
    label = figures["period"]["label"]
    for dimension in DIMENSIONS:
        for row in figures[dimension]:
            writer.writerow([label, dimension, row[dimension], *(row[f] for f in FIGURES)])
    writer.writerow([label, "total", "", *(figures["total"][f] for f in FIGURES)])
    return buffer.getvalue()
