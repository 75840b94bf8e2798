"""The queue: urgency order, badges, filters, search, and a constant number of queries
whatever the page size (no COUNT(*) over the whole table)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from requests_app.admin_views import queue
from requests_app.models import LegalRequest

from .conftest import CHANGELIST, XSS, XSS_ESCAPED, login

pytestmark = pytest.mark.django_db


def listed(client, query: str = "") -> list[str]:
    response = client.get(CHANGELIST + query)
    assert response.status_code == 200
    return [obj.reference for obj in response.context["cl"].result_list]


def test_emergencies_first_then_the_nearest_deadline_then_no_deadline(as_reviewer, make_request):
    now = timezone.now()
    later = make_request(due_at=now + timedelta(days=9))
    no_deadline = make_request(due_at=None)
    sooner = make_request(due_at=now + timedelta(days=1))
    emergency_late = make_request(emergency=True, due_at=now + timedelta(hours=8))
    emergency_soon = make_request(emergency=True, due_at=now + timedelta(hours=2))
    overdue = make_request(due_at=now - timedelta(days=2))
    assert listed(as_reviewer) == [r.reference for r in
                                   (emergency_soon, emergency_late, overdue, sooner, later, no_deadline)]


def test_the_ordering_matches_the_queue_urgency_index():
    sql = str(LegalRequest.objects.order_by(*admin.site._registry[LegalRequest].ordering).query)
    assert sql.endswith('ORDER BY "requests_app_legalrequest"."emergency" DESC, '
                       '"requests_app_legalrequest"."due_at" ASC NULLS LAST, "requests_app_legalrequest"."id" ASC')


def test_badges_come_from_the_row_alone(as_reviewer, make_request):
    now = timezone.now()
    make_request(emergency=True, due_at=now + timedelta(days=3))
    make_request(due_at=now - timedelta(hours=1))
    make_request(due_at=now + timedelta(hours=5), breach_at=now - timedelta(hours=1), warn_at=now - timedelta(days=1))
    make_request(due_at=now + timedelta(days=2), warn_at=now - timedelta(hours=1))
    make_request(due_at=now - timedelta(days=1), status="closed")
    html = as_reviewer.get(CHANGELIST).content.decode()
    for badge in ("emergency", "overdue", "breach", "warn"):
        assert f'class="lrp-badge lrp-badge-{badge}"' in html
    assert html.count('lrp-badge-overdue">overdue</span>') == 1  # the closed request is not overdue


def test_badge_and_time_left_helpers():
    now = timezone.now()
    row = LegalRequest(status="in_review", emergency=True, due_at=now + timedelta(days=3),
                       warn_at=now - timedelta(hours=1), breach_at=now + timedelta(days=1))
    assert queue.badges(row, now) == ["emergency", "warn"]
    assert queue.time_left(row, now) == "3 days left"
    row.due_at = now - timedelta(hours=5)
    assert queue.badges(row, now) == ["emergency", "overdue"]
    assert queue.time_left(row, now) == "5 h overdue"
    row.status = "closed"
    assert queue.time_left(row, now) == "—"


@pytest.mark.parametrize("query,wanted", [
    ("?status__exact=refused", {"refused"}),
    ("?lifecycle__exact=preservation", {"preserving"}),
    ("?country=DE", {"de"}),
    ("?instrument__exact=us_subpoena", {"us"}),
    ("?emergency__exact=1", {"emergency"}),
    ("?overdue=yes", {"overdue"}),
])
def test_each_filter(as_reviewer, make_request, make_authority, officer, query, wanted):
    now = timezone.now()
    german = make_authority(name="BKA", country="DE", domains=["bka.de"])
    rows = {
        "plain": make_request(),
        "refused": make_request(status="refused"),
        "preserving": make_request(lifecycle="preservation", instrument="epoc_pr", status="preserving"),
        "de": make_request(authority=german, country="DE"),
        "us": make_request(instrument="us_subpoena", lifecycle="us_process"),
        "emergency": make_request(emergency=True),
        "overdue": make_request(due_at=now - timedelta(hours=3)),
    }
    make_request(status="closed", due_at=now - timedelta(days=3))  # past due but not open: not overdue
    found = set(listed(as_reviewer, query))
    assert found == {rows[name].reference for name in wanted}


def test_assigned_to_me_and_to_nobody(reviewer, reviewer2, make_request):
    mine = make_request(assigned_to=reviewer)
    make_request(assigned_to=reviewer2)
    nobody = make_request()
    client = login(reviewer)
    assert listed(client, "?assigned=me") == [mine.reference]
    assert listed(client, "?assigned=nobody") == [nobody.reference]


def test_the_country_filter_offers_a_fixed_list(as_reviewer, make_request):
    make_request()
    spec = next(f for f in as_reviewer.get(CHANGELIST).context["cl"].filter_specs if f.title == "country")
    choices = [c["display"] for c in spec.choices(as_reviewer.get(CHANGELIST).context["cl"])][1:]
    assert [c.rsplit("(", 1)[1].rstrip(")") for c in choices] == list(queue.QUEUE_COUNTRIES)
    # Names, not bare codes (issue 13 item 4: raw values appear as labels).
    assert "Austria (AT)" in choices and "United States (US)" in choices and "Germany (DE)" in choices


def test_the_country_filter_names_the_countries_in_the_pages_language():
    from django.utils import translation

    from requests_app.countries import country_label

    with translation.override("de"):
        assert country_label("AT") == "Österreich (AT)" and country_label("GR") == "Griechenland (GR)"
    with translation.override("fr"):
        assert country_label("DE") == "Allemagne (DE)" and country_label("US") == "États-Unis (US)"
    assert country_label("XK") == "XK" and country_label("") == "—"


def test_search_by_reference_case_reference_and_target(as_reviewer, make_request):
    wanted = make_request(case_reference="PN-2026-777", targets=("+33611111111", "+33611111111"))
    other = make_request(case_reference="PN-2026-778", targets=("someone_else",))
    assert listed(as_reviewer, f"?q={wanted.reference}") == [wanted.reference]
    assert listed(as_reviewer, f"?q={wanted.reference.lower()}") == [wanted.reference]
    assert listed(as_reviewer, "?q=PN-2026-777") == [wanted.reference]
    assert listed(as_reviewer, "?q=PN-2026-778") == [other.reference]
    # A beginning finds every match (an index range scan: varchar_pattern_ops).
    assert set(listed(as_reviewer, "?q=PN-2026-77")) == {wanted.reference, other.reference}
    assert listed(as_reviewer, "?q=2026-777") == []  # a substring is never searched (a table scan)
    # Two matching targets on one request: listed once.
    assert listed(as_reviewer, "?q=%2B33611111111") == [wanted.reference]
    assert listed(as_reviewer, "?q=nothing-matches") == []


def _queries(client, per_page: int, monkeypatch) -> list[str]:
    monkeypatch.setattr(admin.site._registry[LegalRequest], "list_per_page", per_page)
    client.get(CHANGELIST)  # warm the session and caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == per_page
    return [q["sql"] for q in ctx.captured_queries]


def test_constant_queries_whatever_the_page_size(reviewer, reviewer2, make_request, make_authority, monkeypatch):
    authorities = [make_authority() for _ in range(5)]
    for n in range(120):
        make_request(authority=authorities[n % 5], assigned_to=(reviewer, reviewer2, None)[n % 3],
                     emergency=n % 17 == 0)
    client = login(reviewer)
    small = _queries(client, 10, monkeypatch)
    large = _queries(client, 100, monkeypatch)
    assert len(small) == len(large) <= 10
    # Never a COUNT(*) over the whole table: the count is bounded by a LIMIT.
    counts = [sql for sql in large if "COUNT(" in sql]
    assert counts and all("LIMIT" in sql for sql in counts)
    assert not any("DISTINCT" in sql for sql in large)


@pytest.mark.parametrize("limit,count,statements", [(5, 8, ["EXPLAIN"]), (100, 8, ["EXPLAIN", "SELECT"])])
def test_the_paginator_counts_exactly_only_small_results(make_request, monkeypatch, limit, count, statements):
    for _ in range(8):
        make_request()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE requests_app_legalrequest")
    monkeypatch.setattr(queue, "EXACT_COUNT_LIMIT", limit)
    with CaptureQueriesContext(connection) as ctx:
        assert queue.EstimatedCountPaginator(LegalRequest.objects.all(), 2).count == count
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == statements


def test_changelist_escapes_free_text(as_reviewer, make_request, make_authority):
    evil = make_authority(name=XSS)
    make_request(authority=evil, targets=(XSS,))
    html = as_reviewer.get(CHANGELIST).content.decode()
    assert XSS not in html and XSS_ESCAPED in html

