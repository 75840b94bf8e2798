"""Transparency reporting: per issuing country, instrument and data category, what was asked
and what was done. The one place where the report's figures are defined and counted: the
``transparency_report`` command, the admin's transparency page and its CSV/JSON downloads
all call ``transparency_figures``.

Covers the counts big platforms publish (requests, accounts specified, share where some data
were produced, emergency requests, preservation; domain.md §5.3), the recommended superset
(non-execution by Annex III reason, rerouting, confidentiality, preservation extensions;
domain.md §5.3) and DSA Art. 15(1)(a) of Reg. (EU) 2022/2065: orders by member state and type,
with the median time to inform the authority of receipt and to give effect (domain.md §5.1).
Times come from the audit trail, the system of record.

Every figure is counted by the database in one scan of the period's requests. What each
request's figures need beyond its own columns (its number of targets, its first acknowledgement,
first production and first preservation in the audit trail, whether an Annex VI extension was
applied to it) is stored on the request by database triggers on those very rows (migration
0025_transparency_report_facts; ``stored_facts_mismatches`` checks them against the audit
trail). The scan groups the requests by what the figures read, a few thousand groups; the
figures are then summed per breakdown from the groups. The period's whole months are not
scanned: their groups are kept, per civil month, in a summary table by triggers on the requests
(migration 0027_transparency_monthly_summary, PostgreSQL), and only the requests of the partial
months at the period's ends are read; ``summary_mismatches`` checks the summary against them.
A second, small statement counts the Annex III reasons. Medians are ``percentile_cont(0.5)`` on
PostgreSQL, over the period's DSA orders read one by one (an index-only scan); only the embedded SQLite default
(no such aggregate) computes them in Python from the same rows.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils.translation import gettext as _

from audit.models import AuditEvent

from .models import AnnexIII, LegalRequest, Target
from .models.review import AnnexIIIKind
from .rules.vocab import ANNEX_III_REASONS
from .states import DSA_INSTRUMENTS, DataCategory, Instrument, Status

# The first decision after intake: the authority is informed of receipt and of the assessment
# (DSA Art. 9(1), 10(1): "inform ... of the receipt of the order"). Any move into one of these.
ACKNOWLEDGED = (Status.IN_REVIEW, Status.CLARIFICATION_REQUESTED, Status.NOT_EXECUTED, Status.REROUTED,
                Status.VERIFICATION_HOLD, Status.AWAITING_ENFORCING_AUTHORITY, Status.PRESERVING)
# The stored facts that hold a request's first move into one of these states (its first
# "request.status_changed" event there). The audit trigger of migration 0025 spells the same
# lists in SQL, frozen with the migration: tests/requests_app/review/test_transparency_facts.py
# pins the installed trigger to this mapping, so a change here needs a migration replacing it.
FIRST_MOVE_INTO = {"first_acknowledged_at": ACKNOWLEDGED, "first_produced_at": (Status.PRODUCED,),
                   "first_preserved_at": (Status.PRESERVING,)}
# Orders to preserve data: Reg. (EU) 2023/1543 Art. 6 (EPOC-PR), 18 U.S.C. § 2703(f).
PRESERVATION_ORDERS = (Instrument.EPOC_PR, Instrument.US_PRESERVATION)
# Annex III forms that decide a (partial) non-execution: Reg. (EU) 2023/1543 Art. 10(5)-(6),
# 11(4)-(5), Annex III section D (a rerouting is counted as ``rerouted``).
NOT_EXECUTING_FORMS = (AnnexIIIKind.NON_EXECUTION, AnnexIIIKind.REFUSAL)


@dataclass(frozen=True)
class Figure:
    """One count of the report: ``sql`` is a number per request of a group ``d`` of alike
    requests (``d.n`` of them), summed; ``per_group`` figures are already a group's total."""

    name: str
    sql: str
    meaning: str
    per_group: bool = False


def _in(values: Any) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"  # vocabulary constants only, never input


_PRODUCED = "d.produced = 1"
_FINISHED_WITHOUT_DATA = (f"NOT ({_PRODUCED}) AND d.status IN "
                          + _in([Status.NOT_EXECUTED, Status.REFUSED, Status.REROUTED, Status.WITHDRAWN,
                                 Status.RELEASED, Status.CLOSED]))


def _when(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


# The outcomes are exclusive: received = some_data_produced + no_data + open, and no_data =
# not_executed + rerouted + withdrawn + released_without_data + closed_without_data.
FIGURE_LIST: tuple[Figure, ...] = (
    Figure("received", "1", "requests received in the period"),
    Figure("accounts_specified", "d.n_targets", "identifiers (accounts, numbers, addresses) named in them",
           per_group=True),
    Figure("emergency", _when("d.emergency"), "emergency requests (Reg. (EU) 2023/1543 Art. 10(4); 18 U.S.C. "
                                              "§ 2702(c)(4))"),
    Figure("confidential", _when("d.confidential"), "requests the authority asked to keep confidential "
                                                    "(Reg. (EU) 2023/1543 Art. 11(1))"),
    Figure("some_data_produced", _when(_PRODUCED), "data produced at least once (a later withdrawal does not "
                                                   "undo it)"),
    Figure("no_data", _when(_FINISHED_WITHOUT_DATA), "finished without any data produced"),
    Figure("not_executed", _when(f"NOT ({_PRODUCED}) AND d.status IN "
                                 + _in([Status.NOT_EXECUTED, Status.REFUSED])),
           "not executed or refused (Annex III; reasons below)"),
    Figure("rerouted", _when(f"NOT ({_PRODUCED}) AND d.status = '{Status.REROUTED}'"), "rerouted to another channel"),
    Figure("withdrawn", _when(f"NOT ({_PRODUCED}) AND d.status = '{Status.WITHDRAWN}'"),
           "withdrawn by the authority before any data were produced"),
    Figure("released_without_data", _when(f"NOT ({_PRODUCED}) AND d.status = '{Status.RELEASED}'"),
           "preservation ended, nothing produced"),
    Figure("closed_without_data", _when(f"NOT ({_PRODUCED}) AND d.status = '{Status.CLOSED}'"),
           "closed without data (e.g. an extension applied to its order)"),
    Figure("open", _when(f"NOT ({_PRODUCED}) AND NOT ({_FINISHED_WITHOUT_DATA})"), "still being worked"),
    Figure("preservation_orders", _when(f"d.instrument IN {_in(PRESERVATION_ORDERS)}"),
           "preservation orders (Reg. (EU) 2023/1543 Art. 6; 18 U.S.C. § 2703(f))"),
    Figure("preserved", _when("d.preserved = 1"), "requests whose data were preserved"),
    Figure("extension_requests", _when(f"d.instrument = '{Instrument.PRESERVATION_EXTENSION}' OR "
                                       f"(d.instrument = '{Instrument.US_PRESERVATION}' AND d.linked = 1)"),
           "extensions of a preservation (Annex VI, Art. 11(1); § 2703(f)(2) renewals)"),
    Figure("extended", _when("d.extended = 1"), "preservation orders extended at least once"),
    Figure("dsa_orders", _when(f"d.instrument IN {_in(DSA_INSTRUMENTS)}"),
           "DSA orders (Reg. (EU) 2022/2065 Art. 9 and 10)"),
)
FIGURES = tuple(f.name for f in FIGURE_LIST)
OUTCOMES = ("some_data_produced", "not_executed", "rerouted", "withdrawn", "released_without_data",
            "closed_without_data", "open")
MEDIANS = ("dsa_median_hours_to_acknowledge", "dsa_median_hours_to_effect")
REASONS = tuple(ANNEX_III_REASONS)
REASON_COLUMNS = tuple(f"not_executed__{code}" for code in REASONS)
# Every breakdown row: the counts, the share, the medians, the counts per Annex III reason.
COLUMNS_OF_A_ROW = (*FIGURES, "share_with_data_produced", *MEDIANS, *REASON_COLUMNS)
COUNTS = (*FIGURES, *REASON_COLUMNS)  # what the small-count rule bands
DIMENSIONS = ("country", "instrument", "data_category", "country_instrument")


# --- periods ------------------------------------------------------------------------------


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
            raise ValueError(_("A range needs a first and a last day."))
        if last < first:
            raise ValueError(_("The last day is before the first day."))
        return Period(f"{first.isoformat()} – {last.isoformat()}", local_midnight(first),
                      local_midnight(last + timedelta(days=1)))
    if year is None or not 2000 <= year <= 2100:
        raise ValueError(_("Give a year between 2000 and 2100."))
    if kind == "year":
        return Period(str(year), local_midnight(date(year, 1, 1)), local_midnight(date(year + 1, 1, 1)))
    months = {"quarter": 3, "half": 6}.get(kind)
    if months is None:
        raise ValueError(_("Unknown period %(kind)s: quarter, half, year or range.") % {"kind": repr(kind)})
    count = 12 // months
    if number is None or not 1 <= number <= count:
        raise ValueError(_("A quarter is numbered 1 to 4.") if kind == "quarter"
                         else _("A half-year is numbered 1 to 2."))
    first_month = (number - 1) * months + 1
    end_year, end_month = (year + 1, 1) if first_month + months > 12 else (year, first_month + months)
    label = f"{year} Q{number}" if kind == "quarter" else f"{year} H{number}"
    return Period(label, local_midnight(date(year, first_month, 1)), local_midnight(date(end_year, end_month, 1)))


# --- the SQL ------------------------------------------------------------------------------
#
# The statements are assembled from the ORM's compiled sub-selects, table names from the models'
# _meta and the vocabularies' constants; every value from outside (the period) is a parameter.
# Hence the S608 exemptions below.


def _sql(queryset: Any) -> tuple[str, list[Any]]:
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


# The monthly summary kept by the triggers of migration 0027_transparency_monthly_summary
# (PostgreSQL only): requests counted per civil month of receipt and per everything ``_derived``
# groups by. Append-only (no writer waits for another on a hot group): a group may have several
# rows, the figures sum them, ``compact_summary`` folds them. ``summary_mismatches`` checks it
# against the requests.
SUMMARY_TABLE = "lrp_report_summary"
SUMMARY_STATE_TABLE = "lrp_report_summary_state"
_ROW_FACTS = """r.country, r.instrument, r.status, r.emergency, r.confidential,
               CASE WHEN r.linked_request_id IS NULL THEN 0 ELSE 1 END AS linked,
               CASE WHEN r.first_produced_at IS NULL THEN 0 ELSE 1 END AS produced,
               CASE WHEN r.first_preserved_at IS NULL THEN 0 ELSE 1 END AS preserved,
               CASE WHEN r.preservation_extended THEN 1 ELSE 0 END AS extended,
               ',' || r.data_categories || ',' AS cats"""


def whole_months(period: Period) -> tuple[date, date] | None:
    """The civil months (provider's zone) lying wholly inside the period, as [first, after the
    last) of their first days; None when there is none. The period's other days, at its ends,
    are the partial months."""
    zone = _zone()
    start, end = period.start.astimezone(zone), period.end.astimezone(zone)
    first = start.date().replace(day=1)
    if (start.day, start.hour, start.minute, start.second, start.microsecond) != (1, 0, 0, 0, 0):
        first = _next_month(first)
    after_last = end.date().replace(day=1)
    return (first, after_last) if first < after_last else None


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def summary_in_use() -> bool:
    """Whether the monthly summary may stand for the requests: on PostgreSQL, its backfill done,
    and its months are those of the provider's zone now (a changed zone makes every month read
    from the requests, until the summary is rebuilt in the new one)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT time_zone, pending_from > pending_to FROM {SUMMARY_STATE_TABLE} "  # noqa: S608
                       "WHERE id = 1")
        state = cursor.fetchone()
    return state is not None and state[1] and state[0] == str(_zone())


def _summary_months(period: Period, use_summary: bool) -> tuple[date, date] | None:
    if not use_summary:
        return None
    months = whole_months(period)
    return months if months is not None and summary_in_use() else None


def _derived(period: Period, months: tuple[date, date] | None = None) -> tuple[str, list[Any]]:
    """``d``: the period's requests grouped by everything a figure reads (a few thousand groups
    at 1M requests), with ``n`` requests and ``n_targets`` targets per group. Without ``months``,
    one scan of the index ``req_report_facts``, which holds these columns (an index-only scan on
    PostgreSQL). With ``months`` (whole months of the period, see ``whole_months``), those months'
    groups come from the monthly summary and only the requests of the partial months at the
    period's ends are read (the same index, a range at each end)."""
    requests = LegalRequest._meta.db_table
    grouped = f"""
        SELECT {_ROW_FACTS}, COUNT(*) AS n, SUM(r.target_count) AS n_targets
        FROM {requests} r
        WHERE {{where}}
        GROUP BY r.country, r.instrument, r.status, r.emergency, r.confidential, linked, produced, preserved,
                 extended, cats"""  # noqa: S608 (a model's table name; the period is a parameter)
    if months is None:
        return grouped.format(where="r.received_at >= %s AND r.received_at < %s"), [period.start, period.end]
    first, after_last = local_midnight(months[0]), local_midnight(months[1])
    edges = grouped.format(where="(r.received_at >= %s AND r.received_at < %s) "
                                 "OR (r.received_at >= %s AND r.received_at < %s)")
    summary = f"""
        SELECT {_ROW_FACTS.replace("r.linked_request_id IS NULL", "NOT r.linked")
                .replace("r.first_produced_at IS NULL", "NOT r.produced")
                .replace("r.first_preserved_at IS NULL", "NOT r.preserved")
                .replace("r.preservation_extended", "r.extended")}, r.n, r.n_targets
        FROM {SUMMARY_TABLE} r
        WHERE r.month >= %s AND r.month < %s AND (r.n <> 0 OR r.n_targets <> 0)"""  # noqa: S608 (the summary's table name)
    return (f"{edges}\n        UNION ALL{summary}",
            [period.start, first, after_last, period.end, months[0], months[1]])


def _dsa_times(period: Period) -> tuple[str, list[Any]]:
    """The period's DSA orders with their first acknowledgement and first effect, as stored on
    the request (an index-only scan of ``req_report_dsa_times``)."""
    orders = (LegalRequest.objects.filter(received_at__gte=period.start, received_at__lt=period.end,
                                          instrument__in=list(DSA_INSTRUMENTS)).order_by()
              .values("country", "instrument", "data_categories", "received_at", "first_acknowledged_at",
                      "first_produced_at"))
    sql, params = _sql(orders)
    return (f"SELECT o.country, o.instrument, ',' || o.data_categories || ',' AS cats, o.received_at, "  # noqa: S608
            f"o.first_acknowledged_at AS acknowledged_at, o.first_produced_at AS produced_at FROM ({sql}) o"), params


def _hours(end: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({end} - d.received_at)) / 3600.0"
    return f"(julianday({end}) - julianday(d.received_at)) * 24.0"


# (breakdown, first key, second key, WHERE) for each group of the UNION, over a relation ``d``.
def _groups() -> list[tuple[str, str, str, str]]:
    groups = [("total", "''", "''", ""), ("country", "d.country", "''", ""),
              ("instrument", "d.instrument", "''", ""), ("country_instrument", "d.country", "d.instrument", "")]
    groups += [("data_category", f"'{code}'", "''", f"WHERE d.cats LIKE '%%,{code},%%'")
               for code in DataCategory.values]
    return groups


def _union(relation: str, aggregates: str, dimensions: tuple[str, ...] | None = None) -> str:
    selects = []
    for dimension, key1, key2, where in _groups():
        if dimensions is not None and dimension not in dimensions:
            continue
        group_by = ", ".join(k for k in (key1, key2) if not k.startswith("'"))
        selects.append(f"SELECT '{dimension}', {key1}, {key2}{aggregates} FROM {relation} AS d {where}"  # noqa: S608
                       + (f" GROUP BY {group_by}" if group_by else ""))
    return "\nUNION ALL\n".join(selects)


def _aggregate_sql(derived: str) -> str:
    """The counts: each figure evaluated once per group of alike requests, weighted by their
    number, and summed per (country, instrument, data categories); the breakdowns then add up
    those few thousand partial sums."""
    columns = "".join(f", SUM({f.sql}) AS f_{f.name}" if f.per_group else f", SUM(d.n * ({f.sql})) AS f_{f.name}"
                      for f in FIGURE_LIST)
    partial = (f"SELECT d.country, d.instrument, d.cats{columns} FROM ({derived}) d "  # noqa: S608
               "GROUP BY d.country, d.instrument, d.cats")
    return f"WITH g AS MATERIALIZED ({partial})\n" + _union("g", "".join(f", SUM(d.f_{f.name})" for f in FIGURE_LIST))


def _medians_sql(orders: str) -> str:
    """The DSA orders' median hours to acknowledge and to give effect, per breakdown
    (PostgreSQL: ``percentile_cont``; NULL hours, not yet reached, are left out)."""
    dsa = (f"SELECT d.country, d.instrument, d.cats, {_hours('d.acknowledged_at')} AS ack_h, "  # noqa: S608
           f"{_hours('d.produced_at')} AS effect_h FROM ({orders}) d")
    medians = "".join(f", percentile_cont(0.5) WITHIN GROUP (ORDER BY d.{c})" for c in ("ack_h", "effect_h"))
    # The total, country, instrument and country × instrument breakdowns in one statement over
    # grouping sets (the orders sorted for them together, not once per breakdown: 0.69 s -> 0.54-0.61 s
    # at 1M, same values); GROUPING() says which set a row is of. The data categories apart (a
    # request may be in several).
    sets = ("SELECT CASE GROUPING(d.country, d.instrument) WHEN 3 THEN 'total' WHEN 1 THEN 'country' "  # noqa: S608
            "WHEN 2 THEN 'instrument' ELSE 'country_instrument' END, "
            "CASE WHEN GROUPING(d.country) = 0 THEN d.country WHEN GROUPING(d.instrument) = 0 THEN d.instrument "
            "ELSE '' END, CASE WHEN GROUPING(d.country, d.instrument) = 0 THEN d.instrument ELSE '' END"
            f"{medians} "
            "FROM m AS d GROUP BY GROUPING SETS ((), (d.country), (d.instrument), (d.country, d.instrument))")
    categories = _union("m", medians, dimensions=("data_category",))
    return f"WITH m AS MATERIALIZED ({dsa})\n{sets}\nUNION ALL\n{categories}"


def _reasons_sql(period: Period) -> tuple[str, list[Any]]:
    """Requests not executed (in whole or in part) per Annex III reason, per breakdown."""
    annex, requests = AnnexIII._meta.db_table, LegalRequest._meta.db_table
    if connection.vendor == "postgresql":
        expand = ("CROSS JOIN LATERAL jsonb_array_elements(a.reasons) AS item "
                  "CROSS JOIN LATERAL jsonb_array_elements_text(item -> 'reasons') AS code(value)")
    else:
        expand = ", json_each(a.reasons) AS item, json_each(item.value, '$.reasons') AS code"
    base = (f"SELECT DISTINCT r.id, r.country, r.instrument, ',' || r.data_categories || ',' AS cats, "  # noqa: S608
            f"code.value AS reason FROM {annex} a JOIN {requests} r ON r.id = a.request_id {expand} "
            f"WHERE r.received_at >= %s AND r.received_at < %s AND a.sent_at IS NOT NULL "
            f"AND a.superseded_at IS NULL AND a.kind IN {_in(NOT_EXECUTING_FORMS)}")
    selects = []
    for dimension, key1, key2, where in _groups():
        keys = [k for k in (key1, key2) if not k.startswith("'")]
        selects.append(f"SELECT '{dimension}', {key1}, {key2}, d.reason, COUNT(*) FROM n AS d {where} "  # noqa: S608
                       f"GROUP BY {', '.join([*keys, 'd.reason'])}")
    return (f"WITH n AS ({base})\n" + "\nUNION ALL\n".join(selects), [period.start, period.end])


def _python_medians(orders: str, params: list[Any]) -> dict[tuple[str, str, str], tuple[float | None, ...]]:
    """The medians on a database without ``percentile_cont`` (the embedded SQLite default), from
    the hours the database computes for the same DSA orders."""
    sql = (f"SELECT d.country, d.instrument, d.cats, {_hours('d.acknowledged_at')}, "  # noqa: S608
           f"{_hours('d.produced_at')} FROM ({orders}) d")
    samples: dict[tuple[str, str, str], tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for country, instrument, cats, ack, effect in cursor.fetchall():
            keys = [("total", "", ""), ("country", country, ""), ("instrument", instrument, ""),
                    ("country_instrument", country, instrument)]
            keys += [("data_category", code, "") for code in DataCategory.values if f",{code}," in cats]
            for key in keys:
                for values, hours in zip(samples[key], (ack, effect), strict=True):
                    if hours is not None:
                        values.append(hours)
    return {key: tuple(median(v) if v else None for v in pair) for key, pair in samples.items()}


def transparency_figures(period: Period, *, use_summary: bool = True) -> dict[str, Any]:
    """The figures of a period by issuing country, instrument, data category and country ×
    instrument, and in total: counts, the share of requests with an outcome where some data
    were produced, the DSA medians, and the requests not executed per Annex III reason.

    A request asking for two data categories counts once under each of them (the category
    breakdown does not add up to the total; the others do).

    The counts of the period's whole months come from the monthly summary when it is in use
    (``summary_in_use``); ``use_summary=False`` counts every request of the period one by one,
    the same figures (``manage.py transparency_report --check-summary`` compares the two)."""
    derived, params = _derived(period, _summary_months(period, use_summary))
    postgres = connection.vendor == "postgresql"
    medians: dict[tuple[str, str, str], tuple[float | None, ...]] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:  # for this transaction only: hashes in memory, no parallel workers rebuilding them
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            # The planner estimates one group per request (the grouping keys are correlated:
            # ~8k real groups at 1M requests) and picks an on-disk sort; a hash aggregate over
            # the index-only scan is ~6x faster (EXPLAIN ANALYZE at 1M: 4.0 s -> 0.7 s). JIT
            # compilation costs more than it saves on this one-off statement.
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(_aggregate_sql(derived), params)
        aggregated = cursor.fetchall()
        orders, orders_params = _dsa_times(period)
        if postgres:
            cursor.execute(_medians_sql(orders), orders_params)
            medians = {(dim, k1 or "", k2 or ""): (ack, effect) for dim, k1, k2, ack, effect in cursor.fetchall()}
        reasons_sql, reasons_params = _reasons_sql(period)
        cursor.execute(reasons_sql, reasons_params)
        reasons = cursor.fetchall()
    if not postgres:
        medians = _python_medians(orders, orders_params)
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for dimension, key1, key2, *values in aggregated:
        counts = dict(zip(FIGURES, (int(v or 0) for v in values[:len(FIGURES)]), strict=True))
        if not counts["received"]:
            continue  # a data category no request asked for
        key = (dimension, key1 or "", key2 or "")
        ack, effect = medians.get(key, (None, None))
        decided = counts["some_data_produced"] + counts["no_data"]
        rows[key] = {**counts,
                     "share_with_data_produced": round(counts["some_data_produced"] / decided, 3) if decided else None,
                     "dsa_median_hours_to_acknowledge": None if ack is None else round(float(ack), 2),
                     "dsa_median_hours_to_effect": None if effect is None else round(float(effect), 2),
                     **dict.fromkeys(REASON_COLUMNS, 0)}
    for dimension, key1, key2, reason, count in reasons:
        row = rows.get((dimension, key1 or "", key2 or ""))
        if row is not None and f"not_executed__{reason}" in row:
            row[f"not_executed__{reason}"] = int(count)

    def breakdown(dimension: str) -> list[dict[str, Any]]:
        found = sorted((k, v) for k, v in rows.items() if k[0] == dimension)
        if dimension == "country_instrument":
            return [{"country": k[1], "instrument": k[2], **v} for k, v in found]
        if dimension == "data_category":  # the order of Art. 3(9)-(12)
            found.sort(key=lambda item: DataCategory.values.index(item[0][1]))
        return [{dimension: k[1], **v} for k, v in found]

    empty = {**dict.fromkeys(FIGURES, 0), "share_with_data_produced": None, **dict.fromkeys(MEDIANS),
             **dict.fromkeys(REASON_COLUMNS, 0)}
    return {"period": {"label": period.label, "from": period.start.isoformat(), "to": period.end.isoformat(),
                       "time_zone": str(period.start.tzinfo)},
            "total": rows.get(("total", "", ""), empty),
            **{dimension: breakdown(dimension) for dimension in DIMENSIONS}}


# --- requests over time ---------------------------------------------------------------------

# A period of up to this many days is drawn per day, a longer one per calendar month.
DAILY_UP_TO_DAYS = 62


@dataclass(frozen=True)
class Series:
    unit: str  # "day" or "month"
    buckets: tuple[date, ...]  # each bucket's first day, the provider's civil days
    counts: dict[str, tuple[int, ...]]  # issuing country -> requests received per bucket


def _buckets(period: Period, unit: str) -> list[date]:
    zone = _zone()
    first, last = period.start.astimezone(zone).date(), (period.end.astimezone(zone) - timedelta(seconds=1)).date()
    days: list[date] = []
    current = first if unit == "day" else first.replace(day=1)
    while current <= last:
        days.append(current)
        if unit == "day":
            current += timedelta(days=1)
        else:
            current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return days


def requests_over_time(period: Period, *, use_summary: bool = True) -> Series:
    """Requests received per day (or month) of the period by issuing country, the days and
    months being the provider's civil ones (a request at 00:30 Brussels time on 1 April is
    April's): one grouped statement (an index-only scan of ``req_report_facts``). Drawn per month,
    the whole months are summed from the monthly summary when it is in use, and only the partial
    months at the period's ends are read from the requests."""
    from django.db.models.functions import Trunc

    unit = "day" if (period.end - period.start) <= timedelta(days=DAILY_UP_TO_DAYS, hours=1) else "month"
    months = _summary_months(period, use_summary) if unit == "month" else None
    in_period = Q(received_at__gte=period.start, received_at__lt=period.end)
    if months is not None:
        in_period = (Q(received_at__gte=period.start, received_at__lt=local_midnight(months[0]))
                     | Q(received_at__gte=local_midnight(months[1]), received_at__lt=period.end))
    rows = list(LegalRequest.objects.filter(in_period).order_by()
                .annotate(bucket=Trunc("received_at", unit, tzinfo=_zone())).values("bucket", "country")
                .annotate(n=Count("id")).values_list("bucket", "country", "n"))
    if months is not None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT month, country, SUM(n) FROM {SUMMARY_TABLE} "  # noqa: S608 (its table name)
                           "WHERE month >= %s AND month < %s AND n <> 0 GROUP BY month, country", list(months))
            rows += [(month, country, int(n)) for month, country, n in cursor.fetchall()]
    buckets = _buckets(period, unit)
    index = {day: i for i, day in enumerate(buckets)}
    counts: dict[str, list[int]] = {}
    for bucket, country, n in rows:
        day = bucket.astimezone(_zone()).date() if isinstance(bucket, datetime) else bucket
        counts.setdefault(country, [0] * len(buckets))[index[day]] += n
    ordered = sorted(counts.items(), key=lambda item: (-sum(item[1]), item[0]))
    return Series(unit, tuple(buckets), {country: tuple(values) for country, values in ordered})


SUMMARY_KEYS = ("month", "country", "instrument", "status", "emergency", "confidential", "linked", "produced",
                "preserved", "extended", "data_categories")
_COMPACT_LOCK = 0x4C52505F53554D  # pg_advisory_xact_lock key of the compaction ("LRP_SUM")


def compact_summary() -> int:
    """Fold the rows of each group of the monthly summary into one and drop the groups that sum to
    nothing; the number of rows removed. The triggers only append deltas (two rows per counted
    change), so without this the summary grows with the changes, not with the groups.

    Only the rows this statement's snapshot sees are deleted and summed: deltas committed while it
    runs stay as they are, and the sums are unchanged whoever writes meanwhile. One compaction at
    a time (an advisory lock; a second one returns at once). PostgreSQL only."""
    if connection.vendor != "postgresql":
        return 0
    keys = ", ".join(SUMMARY_KEYS)
    matched = " AND ".join(f"s.{k} = g.{k}" for k in SUMMARY_KEYS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_COMPACT_LOCK])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(f"SELECT COUNT(*) FROM {SUMMARY_TABLE}")  # noqa: S608 (its table name)
        before = cursor.fetchone()[0]
        cursor.execute(f"""
            WITH g AS (SELECT {keys} FROM {SUMMARY_TABLE} GROUP BY {keys}
                       HAVING COUNT(*) > 1 OR (SUM(n) = 0 AND SUM(n_targets) = 0)),
            moved AS (DELETE FROM {SUMMARY_TABLE} s USING g WHERE {matched} RETURNING s.*)
            INSERT INTO {SUMMARY_TABLE} ({keys}, n, n_targets)
            SELECT {keys}, SUM(n), SUM(n_targets) FROM moved GROUP BY {keys}
            HAVING SUM(n) <> 0 OR SUM(n_targets) <> 0""")  # noqa: S608 (table and column names)
        cursor.execute(f"SELECT COUNT(*) FROM {SUMMARY_TABLE}")  # noqa: S608
        return int(before - cursor.fetchone()[0])


def summary_mismatches(*, limit: int = 100) -> list[dict[str, Any]]:
    """The groups of the monthly summary that differ from the requests counted one by one (every
    month, every group): empty when the triggers kept it. PostgreSQL only (there is no summary
    elsewhere). ``manage.py transparency_report --check-summary`` runs it."""
    if connection.vendor != "postgresql":
        return []
    keys = ("month", "country", "instrument", "status", "emergency", "confidential", "linked", "produced",
            "preserved", "extended", "data_categories")
    sql = f"""
        WITH counted AS (
            SELECT (date_trunc('month', r.received_at AT TIME ZONE z.time_zone))::date AS month, r.country,
                   r.instrument, r.status, r.emergency, r.confidential, r.linked_request_id IS NOT NULL AS linked,
                   r.first_produced_at IS NOT NULL AS produced, r.first_preserved_at IS NOT NULL AS preserved,
                   r.preservation_extended AS extended, r.data_categories, COUNT(*) AS n,
                   SUM(r.target_count) AS n_targets
            FROM {LegalRequest._meta.db_table} r, {SUMMARY_STATE_TABLE} z WHERE z.id = 1
            GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11),
        kept AS (SELECT {", ".join(keys)}, SUM(n) AS n, SUM(n_targets) AS n_targets FROM {SUMMARY_TABLE}
                 GROUP BY {", ".join(keys)} HAVING SUM(n) <> 0 OR SUM(n_targets) <> 0)
        SELECT {", ".join(keys)}, counted.n, counted.n_targets, kept.n, kept.n_targets
        FROM counted FULL JOIN kept USING ({", ".join(keys)})
        WHERE counted.n IS DISTINCT FROM kept.n OR counted.n_targets IS DISTINCT FROM kept.n_targets
        ORDER BY 1, 2, 3, 4 LIMIT %s"""  # noqa: S608 (table names)
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [{**dict(zip(keys, row[:len(keys)], strict=True)), "counted": (row[-4] or 0, row[-3] or 0),
                 "summary": (row[-2] or 0, row[-1] or 0)} for row in cursor.fetchall()]


# --- the stored facts against the record ------------------------------------------------------


def stored_facts_mismatches(period: Period | None = None, *, limit: int = 100) -> list[dict[str, Any]]:
    """The requests (of ``period``, or all) whose stored report facts differ from what their
    sources say: the first moves in the audit trail (the system of record), their targets and
    the Annex VI extensions applied to them. Empty when the triggers kept them; at most ``limit``
    differences. ``manage.py transparency_report --check-facts`` runs it for a period."""
    moves = AuditEvent.objects.filter(request_id=OuterRef("pk"), action="request.status_changed").order_by()

    def first(states: list[str]) -> Any:
        return (moves.filter(data__to__in=states).values("request_id").annotate(at=Min("occurred_at"))
                .values("at")[:1])

    requests = LegalRequest.objects.order_by("pk")
    if period is not None:
        requests = requests.filter(received_at__gte=period.start, received_at__lt=period.end)
    expected = requests.annotate(
        audit_acknowledged=first(list(FIRST_MOVE_INTO["first_acknowledged_at"])),
        audit_produced=first(list(FIRST_MOVE_INTO["first_produced_at"])),
        audit_preserved=first(list(FIRST_MOVE_INTO["first_preserved_at"])),
        counted_targets=Target.objects.filter(request_id=OuterRef("pk")).order_by().values("request_id")
        .annotate(n=Count("id")).values("n")[:1],
        applied_extension=Exists(LegalRequest.objects.filter(
            Q(linked_request_id=OuterRef("pk")), instrument=Instrument.PRESERVATION_EXTENSION,
            resolution="preservation_extended")),
    ).values_list("pk", "first_acknowledged_at", "audit_acknowledged", "first_produced_at", "audit_produced",
                  "first_preserved_at", "audit_preserved", "target_count", "counted_targets",
                  "preservation_extended", "applied_extension")
    names = ("first_acknowledged_at", "first_produced_at", "first_preserved_at", "target_count",
             "preservation_extended")
    found: list[dict[str, Any]] = []
    for pk, *pairs in expected.iterator(chunk_size=5000):
        for name, stored, source in zip(names, pairs[0::2], pairs[1::2], strict=True):
            if name == "target_count":
                source = source or 0
            if stored != source:
                found.append({"request_id": pk, "field": name, "stored": stored, "source": source})
                if len(found) >= limit:
                    return found
    return found


# --- publication --------------------------------------------------------------------------


def band(value: int, threshold: int) -> int | str:
    """The small-count rule for publication: a count from 1 to ``threshold - 1`` is shown as the
    band "1–<threshold - 1>", so that no one authority's or person's case can be singled out."""
    if threshold > 1 and 0 < value < threshold:
        return f"1–{threshold - 1}"
    return value


def _published_row(row: dict[str, Any], threshold: int) -> dict[str, Any]:
    shown = {k: band(v, threshold) if k in COUNTS else v for k, v in row.items()}
    if threshold > 1 and 0 < row["received"] < threshold:
        shown["share_with_data_produced"] = None  # a share of a banded count would undo the band
    if threshold > 1 and row["dsa_orders"] < threshold:
        shown.update(dict.fromkeys(MEDIANS))  # a median of a few orders is one order's time
    return shown


def for_publication(figures: dict[str, Any], threshold: int) -> dict[str, Any]:
    """The figures with every count under the threshold shown as a band, and the shares and
    medians of banded groups left out."""
    return {**figures, "small_count_threshold": threshold, "total": _published_row(figures["total"], threshold),
            **{d: [_published_row(r, threshold) for r in figures[d]] for d in DIMENSIONS}}


def figures_csv(figures: dict[str, Any]) -> str:
    """One CSV: a row per breakdown and key (country × instrument keyed ``FR/epoc``), then the total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["period", "breakdown", "key", *COLUMNS_OF_A_ROW])
    label = figures["period"]["label"]

    def cell(value: Any) -> Any:
        return "" if value is None else value

    for dimension in DIMENSIONS:
        for row in figures[dimension]:
            key = f"{row['country']}/{row['instrument']}" if dimension == "country_instrument" else row[dimension]
            writer.writerow([label, dimension, key, *(cell(row[c]) for c in COLUMNS_OF_A_ROW)])
    writer.writerow([label, "total", "", *(cell(figures["total"][c]) for c in COLUMNS_OF_A_ROW)])
    return buffer.getvalue()


# --- the previous row-based interface (bench/run_all.py), now on the same figures -------------

COLUMNS = ["country", "instrument", *COLUMNS_OF_A_ROW]


def transparency_rows(start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The country × instrument rows of ``transparency_figures`` for [start, end)."""
    return transparency_figures(Period(f"{start.isoformat()} – {end.isoformat()}", start, end))["country_instrument"]
