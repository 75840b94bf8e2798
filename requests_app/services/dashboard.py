"""The legal team's dashboard on the admin index (issue 13 item 5): what is open, what is
due, what waits, what the team got done this week. Each figure is one SQL aggregate over
indexed columns (no row is loaded into Python) and comes with the queue filter showing it.

"Today" and "this week" are the provider's establishment's civil days (Monday to Sunday), as
the team lives them (``PROVIDER.ESTABLISHMENT_TIME_ZONE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.utils import timezone

from ..admin_views.queue import awaiting_approval_q
from ..models import LegalRequest
from ..provider import provider_config
from ..states import TERMINAL_STATES, Status

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


def finished_this_week(now: datetime, week_start: datetime) -> Any:
    """Requests the team finished this week (the dashboard's figure and the queue's filter)."""
    return LegalRequest.objects.filter(status__in=TEAM_FINISHED, status_changed_at__gte=week_start,
                                       status_changed_at__lte=now).order_by()


def dashboard(now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    day_start, day_end, week_start = day_bounds(now)
    open_requests = LegalRequest.objects.exclude(status__in=TERMINAL_STATES).order_by()
    labels = dict(Status.choices)
    by_state = [StateCount(row["status"], str(labels.get(row["status"], row["status"])), row["n"])
                for row in open_requests.values("status").annotate(n=Count("pk")).order_by("status")]
    figures = open_requests.aggregate(
        due_today=Count("pk", filter=Q(due_at__gte=day_start, due_at__lt=day_end)),
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        emergencies=Count("pk", filter=Q(emergency=True)),
        awaiting=Count("pk", filter=Q(awaiting_approval_q())),
    )
    oldest = (open_requests.filter(emergency=True).order_by("received_at", "pk")
              .only("pk", "reference", "received_at").first())
    # One GROUP BY for the team's throughput, per member; the total is their sum.
    per_member = (finished_this_week(now, week_start).values("assigned_to", "assigned_to__email")
                  .annotate(n=Count("pk")).order_by("-n", "assigned_to__email"))
    members = [MemberCount(row["assigned_to"], row["assigned_to__email"] or "", row["n"]) for row in per_member]
    finished = sum(m.count for m in members)
    return Dashboard(
        open_total=sum(s.count for s in by_state), open_by_state=by_state, due_today=figures["due_today"],
        overdue=figures["overdue"], emergencies_waiting=figures["emergencies"], oldest_emergency=oldest,
        awaiting_approval=figures["awaiting"], finished_this_week=finished, finished_by_member=members,
        day_start=day_start,
        week_start=week_start,
    )


__all__ = ["Dashboard", "MemberCount", "StateCount", "dashboard", "day_bounds", "finished_this_week"]
