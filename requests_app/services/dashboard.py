"""The legal team's dashboard on the admin index (issue 13 item 5): what is open, what is
due, what waits, what the team got done this week, each figure with the queue filter
showing it.

Each figure is defined once, here, as a ``Q``; the dashboard counts with it and the queue's
filters (``admin_views/queue.py``) filter with the same ``Q``, so a dashboard link always opens
a queue of exactly the count it shows. At a million requests the counts are three statements
over partial indexes (``req_open_dashboard``, ``req_open_emergency``, ``req_status_changed``):
the open requests by state with due today / overdue / emergencies as ``FILTER`` clauses of one
index-only pass, the awaiting-approval count driven from the few prepared packages, and the
oldest emergency from the head of its own index (reference/performance.md §6).

"Today" and "this week" are the provider's establishment's civil days (Monday to Sunday), as
the team lives them (``PROVIDER.ESTABLISHMENT_TIME_ZONE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ..models import LegalRequest, ResponsePackage
from ..provider import provider_config
from ..states import OPEN_STATES, TERMINAL_STATES, Status

# Terminal states the team's own work brings a request to (a withdrawal is the authority's).
TEAM_FINISHED = frozenset(TERMINAL_STATES - {Status.WITHDRAWN})


@dataclass(frozen=True)
class StateCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class MemberCount:
    """What one member of the legal team finished this week: the requests assigned to them
    that reached a terminal state of the team's own work (``assigned_to`` None = nobody)."""

    assigned_to: int | None
    email: str
    count: int


@dataclass(frozen=True)
class Dashboard:
    open_total: int
    open_by_state: list[StateCount]
    due_today: int
    overdue: int
    emergencies_waiting: int
    oldest_emergency: Any  # LegalRequest | None (reference, received_at, pk only)
    awaiting_approval: int
    finished_this_week: int
    finished_by_member: list[MemberCount]
    day_start: datetime
    week_start: datetime


def day_bounds(now: datetime) -> tuple[datetime, datetime, datetime]:
    """Start of today, start of tomorrow and start of this week (Monday), in the establishment's zone."""
    zone = ZoneInfo(provider_config().establishment_time_zone)
    local = now.astimezone(zone)
    today = local.date()
    start = datetime(today.year, today.month, today.day, tzinfo=zone)
    tomorrow = today + timedelta(days=1)
    monday = today - timedelta(days=today.weekday())
    return (start, datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=zone),
            datetime(monday.year, monday.month, monday.day, tzinfo=zone))


# --- The figures' definitions (the dashboard counts them, the queue filters by them) -------


def open_q() -> Q:
    """Open: not in a terminal state. Spelt ``status IN (OPEN_STATES)``, the condition of the
    partial indexes, so that PostgreSQL can use them (a ``NOT IN`` would not match)."""
    return Q(status__in=OPEN_STATES)


def due_today_q(now: datetime) -> Q:
    """Due during today, in the establishment's zone (midnight to midnight), open or not:
    combined with ``open_q`` by the callers."""
    start, end, _week = day_bounds(now)
    return Q(due_at__gte=start, due_at__lt=end)


def overdue_q(now: datetime) -> Q:
    return Q(due_at__lt=now)


def emergency_q() -> Q:
    return Q(emergency=True)


def pending_packages() -> QuerySet:
    """Prepared responses that no second person has approved yet (nor released nor purged)."""
    return ResponsePackage.objects.filter(approval__isnull=True, released_at__isnull=True, purged_at__isnull=True)


def awaiting_approval_q() -> Q:
    """A request with a pending package: the queue's filter and badge, and the dashboard's count."""
    return Q(Exists(pending_packages().filter(request=OuterRef("pk"))))


def finished_this_week_q(now: datetime) -> Q:
    """Reached a terminal state of the team's own work since Monday 00:00 (establishment's zone)."""
    return Q(status__in=TEAM_FINISHED, status_changed_at__gte=day_bounds(now)[2], status_changed_at__lte=now)


def finished_this_week(now: datetime) -> QuerySet:
    """Requests the team finished this week (the dashboard's figure and the queue's filter)."""
    return LegalRequest.objects.filter(finished_this_week_q(now)).order_by()


def awaiting_approval_count() -> int:
    """Open requests awaiting approval: the queue filter's own set, counted.

    A semi-join that PostgreSQL drives from the few pending packages (their request ids made
    unique, then each request looked up by its key), not a probe per open request.
    """
    return LegalRequest.objects.filter(open_q(), awaiting_approval_q()).order_by().count()


def dashboard(now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    day_start, _day_end, week_start = day_bounds(now)
    labels = dict(Status.choices)
    # One pass over the open rows (an index-only scan of req_open_dashboard, in status order):
    # the count per state, and the other open figures as FILTER clauses of the same pass.
    # COUNT(status), not COUNT(id): status is NOT NULL and in the index, id is not (Django
    # refuses COUNT(*) with a filter).
    rows = list(LegalRequest.objects.filter(open_q()).order_by("status").values("status").annotate(
        n=Count("status"), due_today=Count("status", filter=due_today_q(now)),
        overdue=Count("status", filter=overdue_q(now)), emergencies=Count("status", filter=emergency_q())))
    by_state = [StateCount(row["status"], str(labels.get(row["status"], row["status"])), row["n"]) for row in rows]
    oldest = (LegalRequest.objects.filter(open_q(), emergency_q()).order_by("received_at", "pk")
              .only("pk", "reference", "received_at").first())
    # One GROUP BY for the team's throughput, per member; the total is their sum.
    per_member = (finished_this_week(now).values("assigned_to", "assigned_to__email")
                  .annotate(n=Count("*")).order_by("-n", "assigned_to__email"))
    members = [MemberCount(row["assigned_to"], row["assigned_to__email"] or "", row["n"]) for row in per_member]
    return Dashboard(
        open_total=sum(s.count for s in by_state), open_by_state=by_state,
        due_today=sum(row["due_today"] for row in rows), overdue=sum(row["overdue"] for row in rows),
        emergencies_waiting=sum(row["emergencies"] for row in rows), oldest_emergency=oldest,
        awaiting_approval=awaiting_approval_count(), finished_this_week=sum(m.count for m in members),
        finished_by_member=members, day_start=day_start, week_start=week_start,
    )


__all__ = ["Dashboard", "MemberCount", "StateCount", "awaiting_approval_count", "awaiting_approval_q", "dashboard",
           "day_bounds", "due_today_q", "emergency_q", "finished_this_week", "finished_this_week_q", "open_q",
           "overdue_q", "pending_packages"]
