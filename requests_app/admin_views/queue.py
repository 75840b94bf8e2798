"""The legal team's queue: list filters, deadline badges and a paginator that never counts
a million rows (reference/performance.md §6).

The filters behind the dashboard's links (open, due today, overdue, awaiting approval, finished
this week) apply the dashboard's own definitions (``services/dashboard.py``), so a link opens
a queue of exactly the count it shows. Every filter here has a fixed list of choices: Django's
``AllValuesFieldListFilter`` would run ``SELECT DISTINCT`` over the whole table on every page.
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
from ..services import dashboard
from ..states import TERMINAL_STATES

# The countries the provider hears from: the member states and the United States.
QUEUE_COUNTRIES: tuple[str, ...] = (*sorted(EU_MEMBER_STATES), "US")


class CountryFilter(admin.SimpleListFilter):
    title = _("country")
    parameter_name = "country"

    def lookups(self, request, model_admin):
        from ..countries import country_label

        return [(code, country_label(code)) for code in QUEUE_COUNTRIES]

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
        # "Today" is a day of the provider's zone (services/dashboard.day_bounds): the label says which.
        from ..provider import provider_config

        zone = provider_config().establishment_time_zone
        return [("yes", _("overdue (open, past due)")),
                ("today", _("due today in %(zone)s (open)") % {"zone": zone})]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(dashboard.open_q(), dashboard.overdue_q(timezone.now()))
        if self.value() == "today":
            return queryset.filter(dashboard.open_q(), dashboard.due_today_q(timezone.now()))
        return queryset


class OpenFilter(admin.SimpleListFilter):
    """Open requests, or those the team finished this week (the dashboard's links)."""

    title = _("open or finished")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("open")), ("finished_week", _("finished this week"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(dashboard.open_q())
        if self.value() == "finished_week":
            return queryset.filter(dashboard.finished_this_week_q(timezone.now()))
        return queryset


class AwaitingApprovalFilter(admin.SimpleListFilter):
    title = _("approval")
    parameter_name = "approval"

    def lookups(self, request, model_admin):
        return [("awaiting", _("awaiting approval"))]

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            return queryset.filter(dashboard.open_q(), dashboard.awaiting_approval_q())
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


def deadline_level(request: Any, now: datetime) -> str:
    """``overdue``, ``breach``, ``warn`` or "" for an open request, from its own columns."""
    if request.status in TERMINAL_STATES:
        return ""
    if request.due_at and now >= request.due_at:
        return "overdue"
    if request.breach_at and now >= request.breach_at:
        return "breach"
    if request.warn_at and now >= request.warn_at:
        return "warn"
    return ""


def badges(request: Any, now: datetime) -> list[str]:
    """Badges of one queue row, from its own columns (and the queue's awaiting-approval
    annotation) only: no query."""
    found = ["emergency"] if request.emergency else []
    if request.late_registration:
        found.append("late")  # registered by the legal team long after its stated receipt
    authority = getattr(request, "authority", None)  # selected with the row in the queue
    if authority is not None and authority.vetting_status != "verified":
        found.append("unvetted")  # e.g. registered by the legal team for an authority pending vetting
    if request.status in TERMINAL_STATES:
        return found
    if getattr(request, "awaiting_approval", False):
        found.append("awaiting approval")
    level = deadline_level(request, now)
    if level:
        found.append(level)
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
REFERENCE_PREFIX = re.compile(r"^LRP-[\d-]*$", re.IGNORECASE)


def search_queue(queryset: QuerySet, term: str) -> QuerySet:
    """Exact reference first; otherwise a case reference or a target value, exactly or by prefix.

    Each branch is an index range scan (``reference`` unique; ``req_case_reference_prefix``,
    ``target_value_prefix``: ``varchar_pattern_ops`` B-trees, which serve ``LIKE 'x%'`` under
    any collation), joined as one ``id IN (… UNION …)`` sub-select, so the page neither scans
    the table nor repeats a request that has several matching targets. A prefix of a reference
    (``LRP-2026-00``) is a range on the unique index. Substrings are not searched: that would
    be a sequential scan of the whole table.
    """
    term = term.strip()
    if not term:
        return queryset
    if REFERENCE_PATTERN.match(term):
        # The whole reference, or the beginning of longer ones (a range on its unique index).
        return queryset.filter(reference__startswith=term.upper())
    from ..models import LegalRequest, Target

    by_case = LegalRequest.objects.filter(case_reference__startswith=term).order_by().values("pk")
    by_target = Target.objects.filter(value__startswith=term).order_by().values("request_id")
    branches = by_case.union(by_target)
    if REFERENCE_PREFIX.match(term):
        branches = branches.union(LegalRequest.objects.filter(reference__startswith=term.upper())
                                  .order_by().values("pk"))
    return queryset.filter(pk__in=branches)
