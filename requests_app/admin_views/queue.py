"""The legal team's queue: list filters, deadline badges and a paginator that never counts
a million rows (reference/performance.md §6).

Every filter here has a fixed list of choices: Django's ``AllValuesFieldListFilter`` would
run ``SELECT DISTINCT`` over the whole table on every page.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from ..rules.vocab import EU_MEMBER_STATES
from ..states import TERMINAL_STATES

# The countries the provider hears from: the member states and the United States.
QUEUE_COUNTRIES: tuple[str, ...] = (*sorted(EU_MEMBER_STATES), "US")


class CountryFilter(admin.SimpleListFilter):
    title = _("country")
    parameter_name = "country"

    def lookups(self, request, model_admin):
        return [(code, code) for code in QUEUE_COUNTRIES]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(country=value) if value else queryset


class AssignedFilter(admin.SimpleListFilter):
    title = _("assigned to")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("me")), ("nobody", _("nobody"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("overdue (open, past due)"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(due_at__lt=timezone.now()).exclude(status__in=TERMINAL_STATES)
        return queryset


# --- Counting -----------------------------------------------------------------------------

# Up to this many rows the count is exact; above it PostgreSQL's planner estimate is shown.
EXACT_COUNT_LIMIT = 2_000


def planner_estimate(queryset: QuerySet) -> int:
    """The planner's row estimate for ``queryset`` (EXPLAIN, nothing is executed)."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Never a full ``COUNT(*)``: the planner's estimate for big results, an exact count
    (bounded by a ``LIMIT`` sub-select) for small ones.

    One ``EXPLAIN`` (a fraction of a millisecond); when it estimates at most
    ``EXACT_COUNT_LIMIT`` rows, one ``COUNT`` over ``LIMIT EXACT_COUNT_LIMIT + 1`` rows, so
    even a wrong estimate costs at most that many rows. Exact on other databases (SQLite).
    """

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or connections[queryset.db].vendor != "postgresql":
            return super().count
        estimate = planner_estimate(queryset)
        if estimate > EXACT_COUNT_LIMIT:
            return estimate
        bounded = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
        return bounded if bounded <= EXACT_COUNT_LIMIT else max(bounded, estimate)


# --- Badges and time left -----------------------------------------------------------------


def badges(request: Any, now: datetime) -> list[str]:
    """Badges of one queue row, from its own columns only (no query)."""
    found = ["emergency"] if request.emergency else []
    if request.late_registration:
        found.append("late")  # registered by the legal team long after its stated receipt
    authority = getattr(request, "authority", None)  # selected with the row in the queue
    if authority is not None and authority.vetting_status != "verified":
        found.append("unvetted")  # e.g. registered by the legal team for an authority pending vetting
    if request.status in TERMINAL_STATES:
        return found
    if request.due_at and now >= request.due_at:
        found.append("overdue")
    elif request.breach_at and now >= request.breach_at:
        found.append("breach")
    elif request.warn_at and now >= request.warn_at:
        found.append("warn")
    return found


def humanise(delta: timedelta) -> str:
    seconds = abs(delta.total_seconds())
    if seconds < 3600:
        return f"{max(1, int(seconds // 60))} min"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} days"


def time_left(request: Any, now: datetime) -> str:
    if request.due_at is None or request.status in TERMINAL_STATES:
        return "—"
    delta = request.due_at - now
    return f"{humanise(delta)} left" if delta.total_seconds() >= 0 else f"{humanise(delta)} overdue"


# --- Search -------------------------------------------------------------------------------

REFERENCE_PATTERN = re.compile(r"^LRP-\d{4}-\d+$", re.IGNORECASE)


def search_queue(queryset: QuerySet, term: str) -> QuerySet:
    """Exact reference first; otherwise an exact case reference or an exact target value.

    Each branch is an equality on an index (``reference`` unique, ``req_case_reference``,
    ``target_value``), joined as one ``id IN (… UNION …)`` sub-select, so the page neither
    scans the table nor repeats a request that has several matching targets. Substring or
    prefix matching would be a sequential scan of the whole table: LIKE 'x%' cannot use a
    B-tree index under the databases' C.UTF-8 collation.
    """
    term = term.strip()
    if not term:
        return queryset
    if REFERENCE_PATTERN.match(term):
        return queryset.filter(reference=term.upper())
    from ..models import LegalRequest, Target

    by_case = LegalRequest.objects.filter(case_reference=term).order_by().values("pk")
    by_target = Target.objects.filter(value=term).order_by().values("request_id")
    return queryset.filter(pk__in=by_case.union(by_target))
