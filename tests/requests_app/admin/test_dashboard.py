"""The dashboard on the admin index (issue 13 item 5): figures counted by hand on a fixture
around Brussels midnight, each a link to the queue showing exactly those requests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from requests_app.models import ResponsePackage
from requests_app.services.dashboard import dashboard

from .conftest import CHANGELIST, change_url, login

pytestmark = pytest.mark.django_db

# Wednesday 16 September 2026, 23:30 in Brussels (CEST, UTC+2): today ends at 22:00 UTC and the
# week began on Monday 14 September 00:00 Brussels = 13 September 22:00 UTC.
NOW = datetime(2026, 9, 16, 21, 30, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def world(make_request, reviewer, reviewer2):
    with time_machine.travel(NOW, tick=False):
        rows = {
            # due today (Brussels): from 15 Sep 22:00 UTC to 16 Sep 22:00 UTC
            "due_start_of_day": make_request(due_at=utc(2026, 9, 15, 22, 0)),  # 00:00 Wed: today, overdue
            "due_tonight": make_request(due_at=utc(2026, 9, 16, 21, 59)),  # 23:59 Wed: today, not overdue
            "due_tomorrow": make_request(due_at=utc(2026, 9, 16, 22, 0)),  # 00:00 Thu: not today
            "due_yesterday": make_request(due_at=utc(2026, 9, 15, 21, 59)),  # 23:59 Tue: overdue only
            "emergency_old": make_request(emergency=True, status="verification_hold",
                                          received_at=utc(2026, 9, 16, 10, 0), due_at=NOW + timedelta(hours=1)),
            "emergency_new": make_request(emergency=True, received_at=utc(2026, 9, 16, 20, 0),
                                          due_at=NOW + timedelta(hours=6)),
            "emergency_done": make_request(emergency=True, status="closed", received_at=utc(2026, 9, 1),
                                           status_changed_at=utc(2026, 9, 13, 22, 30),  # Mon 00:30: this week
                                           assigned_to=reviewer),
            "refused_sunday": make_request(status="refused", status_changed_at=utc(2026, 9, 13, 21, 30),
                                           assigned_to=reviewer2),  # Sun 23:30: last week
            "withdrawn": make_request(status="withdrawn", status_changed_at=utc(2026, 9, 15)),  # not the team's
            "not_executed": make_request(status="not_executed", status_changed_at=utc(2026, 9, 16, 9)),
            "waiting": make_request(status="in_review", due_at=NOW + timedelta(days=3)),
            "overdue_closed": make_request(status="closed", due_at=utc(2026, 9, 1),
                                           status_changed_at=utc(2026, 9, 2)),
        }
        ResponsePackage.objects.create(request=rows["waiting"], prepared_by=reviewer)
    return rows


def test_figures_counted_by_hand(world):
    with time_machine.travel(NOW, tick=False):
        d = dashboard()
    assert d.open_total == 7
    assert {(s.status, s.count) for s in d.open_by_state} == {("in_review", 6), ("verification_hold", 1)}
    assert d.due_today == 2  # due_start_of_day, due_tonight
    assert d.overdue == 2  # due_start_of_day, due_yesterday (the closed one is not open)
    assert d.emergencies_waiting == 2
    assert d.oldest_emergency.pk == world["emergency_old"].pk
    assert d.awaiting_approval == 1
    assert d.finished_this_week == 2  # emergency_done (Mon 00:30 Brussels), not_executed
    # Per member: reviewer finished emergency_done; not_executed had nobody assigned; reviewer2's
    # refusal was on Sunday, last week.
    assert [(m.email, m.count) for m in d.finished_by_member] == [("reviewer@provider.example", 1), ("", 1)]


def _links(html: str) -> dict[str, str]:
    return {m.group(2): m.group(1).replace("&amp;", "&")
            for m in re.finditer(r'<a href="([^"]+)" data-figure="([^"]+)"', html)}


@pytest.mark.parametrize("figure,wanted", [
    ("open", {"due_start_of_day", "due_tonight", "due_tomorrow", "due_yesterday", "emergency_old",
              "emergency_new", "waiting"}),
    ("due_today", {"due_start_of_day", "due_tonight"}),
    ("overdue", {"due_start_of_day", "due_yesterday"}),
    ("emergencies", {"emergency_old", "emergency_new"}),
    ("awaiting_approval", {"waiting"}),
    ("finished_week", {"emergency_done", "not_executed"}),
    ("state-verification_hold", {"emergency_old"}),
    ("finished_week-nobody", {"not_executed"}),
])
def test_each_figure_links_to_the_queue_showing_it(world, reviewer, figure, wanted):
    with time_machine.travel(NOW, tick=False):  # signed in at that time (sessions expire)
        client = login(reviewer)
        html = client.get("/admin/").content.decode()
        link = _links(html)[figure]
        assert link.startswith(CHANGELIST)
        response = client.get(link)
    assert response.status_code == 200
    assert {r.reference for r in response.context["cl"].result_list} == {world[n].reference for n in wanted}


def test_throughput_per_member_links_to_that_members_finished_requests(world, reviewer, reviewer2):
    with time_machine.travel(NOW, tick=False):
        client = login(reviewer)
        html = client.get("/admin/").content.decode()
        links = _links(html)
        assert f"finished_week-{reviewer2.pk}" not in links  # nothing finished by reviewer2 this week
        response = client.get(links[f"finished_week-{reviewer.pk}"])
    assert response.status_code == 200
    assert {r.reference for r in response.context["cl"].result_list} == {world["emergency_done"].reference}
    table = html[html.index('id="lrp-throughput"'):]
    assert "reviewer@provider.example" in table[:table.index("</table>")]


def test_oldest_emergency_links_to_its_page(world, reviewer):
    with time_machine.travel(NOW, tick=False):
        html = login(reviewer).get("/admin/").content.decode()
    assert _links(html)["oldest_emergency"] == change_url(world["emergency_old"])
    assert world["emergency_old"].reference in html


def test_dashboard_has_no_inline_script_or_style(world, reviewer):
    with time_machine.travel(NOW, tick=False):
        response = login(reviewer).get("/admin/")
    html = response.content.decode()
    dash = html[html.index('id="lrp-dashboard"'):html.index("lrp-index-extra")]
    assert "style=" not in dash and "<script" not in dash and "<style" not in dash
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_dashboard_costs_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(4):
        dashboard()


def _figures(html: str) -> dict[str, int]:
    """The count beside each dashboard link (the first number of the row's cell)."""
    found = {}
    for m in re.finditer(r'<a href="[^"]+" data-figure="([^"]+)">[^<]*</a></th><td class="lrp-figure">(\d+)', html):
        found[m.group(1)] = int(m.group(2))
    return found


def test_every_count_equals_the_count_of_the_queue_its_link_opens(world, reviewer):
    """One definition per figure: the number on the dashboard is the number of rows its link shows."""
    with time_machine.travel(NOW, tick=False):
        client = login(reviewer)
        html = client.get("/admin/").content.decode()
        figures, links = _figures(html), _links(html)
        assert {"open", "due_today", "overdue", "emergencies", "awaiting_approval", "finished_week",
                "state-in_review", "state-verification_hold", f"finished_week-{reviewer.pk}",
                "finished_week-nobody"} <= set(figures)
        for figure, count in figures.items():
            cl = client.get(links[figure]).context["cl"]
            assert (figure, cl.result_count) == (figure, count)
            assert (figure, len(cl.result_list)) == (figure, count)


def test_the_queue_filters_apply_the_dashboards_definitions(world, reviewer, monkeypatch):
    """The queue's "finished this week" (and the other linked filters) are the dashboard's own
    definitions, not copies: changing the definition changes both."""
    from django.db.models import Q

    from requests_app.services import dashboard as definitions

    monkeypatch.setattr(definitions, "finished_this_week_q", lambda now: Q(pk=world["not_executed"].pk),
                        raising=False)
    monkeypatch.setattr(definitions, "overdue_q", lambda now: Q(pk=world["due_yesterday"].pk), raising=False)
    with time_machine.travel(NOW, tick=False):
        client = login(reviewer)
        finished = client.get(f"{CHANGELIST}?open=finished_week").context["cl"].result_list
        overdue = client.get(f"{CHANGELIST}?overdue=yes").context["cl"].result_list
    assert [r.pk for r in finished] == [world["not_executed"].pk]
    assert [r.pk for r in overdue] == [world["due_yesterday"].pk]


def test_awaiting_approval_counts_each_open_request_once(make_request, reviewer):
    """Hand-counted: two pending packages on one request count once; a purged package, or a
    pending one on a closed request, does not count."""
    with time_machine.travel(NOW, tick=False):
        twice = make_request()
        purged = make_request()
        closed = make_request(status="closed", status_changed_at=NOW - timedelta(days=30))
        for request in (twice, twice, closed):
            ResponsePackage.objects.create(request=request, prepared_by=reviewer)
        ResponsePackage.objects.create(request=purged, prepared_by=reviewer, purged_at=NOW)
        d = dashboard()
        cl = login(reviewer).get(f"{CHANGELIST}?approval=awaiting").context["cl"]
    assert d.awaiting_approval == 1
    assert [r.pk for r in cl.result_list] == [twice.pk]


def test_the_dashboards_statements_read_partial_indexes(world):
    """At a million rows the dashboard must not scan the table nor probe a package per open
    request: its statements can be answered from the partial indexes (planner told to avoid
    sequential scans, as it would at scale), with no per-row sub-plan."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL plans")
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as ctx:
        dashboard()
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in ctx.captured_queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    joined = "\n".join(plans)
    assert "SubPlan" not in joined, joined
    assert "Seq Scan on requests_app_legalrequest" not in joined, joined
    assert "req_open_dashboard" in joined, joined
    assert "req_open_emergency" in joined, joined


def test_the_partial_indexes_spell_the_dashboards_open_condition():
    """If a state is added, the indexes' condition must follow (a migration), or the planner
    would no longer match it to the dashboard's queries."""
    from requests_app.models import LegalRequest
    from requests_app.services.dashboard import emergency_q, open_q

    indexes = {i.name: i for i in LegalRequest._meta.indexes}
    assert indexes["req_open_dashboard"].condition == open_q()
    assert set(indexes["req_open_emergency"].condition.children) == {*open_q().children, *emergency_q().children}
