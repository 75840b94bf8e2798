"""The queue as the legal team's workspace (issue 13 item 4): the columns, time left as a
badge, awaiting approval, labels instead of codes, internal models off the index, prefix search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.html import escape

from requests_app.models import Approval, ResponsePackage

from .conftest import CHANGELIST, change_url, login

pytestmark = pytest.mark.django_db


def listed(client, query: str = "") -> list[str]:
    response = client.get(CHANGELIST + query)
    assert response.status_code == 200
    return [obj.reference for obj in response.context["cl"].result_list]


def test_the_queue_shows_the_columns_the_team_works_with(as_reviewer, make_request):
    make_request()
    html = as_reviewer.get(CHANGELIST).content.decode()
    for column in ("reference", "badge", "status", "instrument", "authority", "due", "left"):
        assert f'class="sortable column-{column}' in html or f'column-{column}' in html, column
    assert "column-lifecycle" not in html and "column-country" not in html


def test_time_left_is_a_deadline_badge(as_reviewer, make_request):
    now = timezone.now()
    make_request(due_at=now - timedelta(hours=5))
    make_request(due_at=now + timedelta(hours=5), breach_at=now - timedelta(hours=1))
    make_request(due_at=now + timedelta(days=2), warn_at=now - timedelta(hours=1))
    make_request(due_at=now + timedelta(days=4))
    html = as_reviewer.get(CHANGELIST).content.decode()
    assert '<span class="lrp-badge lrp-badge-overdue">5 h overdue</span>' in html
    assert '<span class="lrp-badge lrp-badge-breach">5 h left</span>' in html
    assert '<span class="lrp-badge lrp-badge-warn">2 days left</span>' in html
    assert '<td class="field-left">4 days left</td>' in html


def _package(request, preparer, *, approver=None, released=False):
    approval = (Approval.objects.create(request=request, prepared_by=preparer, approved_by=approver)
                if approver else None)
    return ResponsePackage.objects.create(request=request, prepared_by=preparer, approval=approval,
                                          released_at=timezone.now() if released else None)


def test_awaiting_approval_filter_and_badge(as_reviewer, reviewer, approver, make_request):
    waiting = make_request()
    _package(waiting, reviewer)
    approved = make_request(status="approved")
    _package(approved, reviewer, approver=approver)
    make_request()  # nothing prepared
    purged = make_request()
    ResponsePackage.objects.filter(pk=_package(purged, reviewer).pk).update(purged_at=timezone.now())
    assert listed(as_reviewer, "?approval=awaiting") == [waiting.reference]
    html = as_reviewer.get(CHANGELIST).content.decode()
    assert html.count('<span class="lrp-badge lrp-badge-awaiting-approval">awaiting approval</span>') == 1


def test_codes_appear_as_labels_on_the_request_page(as_reviewer, make_request):
    request = make_request(status="not_executed", resolution="not_executed", language="fr",
                           validation_authority_type="investigating_judge")
    html = as_reviewer.get(change_url(request)).content.decode()
    assert "Investigating judge" in html and "investigating_judge" not in html
    assert "Not executed" in html and ">not_executed<" not in html
    assert "French (fr)" in html


def test_internal_models_are_off_the_legal_teams_index(legal_admin, make_request, db):
    from accounts.models import User

    html = login(legal_admin).get("/admin/").content.decode()
    assert "/admin/outbox/outboxmessage/" not in html
    assert "/admin/requests_app/idempotencyrecord/" not in html
    assert "/admin/requests_app/legalrequest/" in html
    root = User.objects.create_superuser(email="root@provider.example", password=None)
    html = login(root).get("/admin/").content.decode()
    assert "/admin/outbox/outboxmessage/" in html and "/admin/requests_app/idempotencyrecord/" in html


def test_search_by_prefix_of_target_and_reference(as_reviewer, make_request):
    wanted = make_request(targets=("suspect_account_42",))
    other = make_request(targets=("suspect_account_43",))
    assert set(listed(as_reviewer, "?q=suspect_account_4")) == {wanted.reference, other.reference}
    assert listed(as_reviewer, "?q=suspect_account_42") == [wanted.reference]
    assert listed(as_reviewer, "?q=account_42") == []
    prefix = wanted.reference[:-1]
    assert set(listed(as_reviewer, f"?q={prefix}")) == {r.reference for r in (wanted, other)
                                                        if r.reference.startswith(prefix)}
    assert listed(as_reviewer, f"?q={other.reference.lower()}") == [other.reference]
    assert set(listed(as_reviewer, "?q=LRP-2026-")) >= {wanted.reference, other.reference}


def test_prefix_search_uses_pattern_indexes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
                       "('req_case_reference_prefix', 'target_value_prefix')")
        found = dict(cursor.fetchall())
    assert set(found) == {"req_case_reference_prefix", "target_value_prefix"}
    assert all("varchar_pattern_ops" in d for d in found.values())


def test_each_row_links_to_its_request_with_the_queues_filters(as_reviewer, make_request):
    """The row links are built once per page (not a reverse() and resolve() per row): the
    same links Django builds, the filters preserved, so "back to the queue" keeps them."""
    from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
    from django.urls import reverse

    request = make_request(status="in_review", country="DE")
    for query in ("", "?status__exact=in_review&country=DE"):
        response = as_reviewer.get(f"{CHANGELIST}{query}")
        cl = response.context["cl"]
        django_link = add_preserved_filters(
            {"preserved_filters": response.context["preserved_filters"], "opts": cl.opts},
            reverse("admin:requests_app_legalrequest_change", args=[request.pk]))
        assert f'href="{escape(django_link)}"' in response.content.decode(), query
        if query:
            assert "_changelist_filters=status__exact%3Din_review%26country%3DDE" in django_link
            back = as_reviewer.get(django_link).content.decode()
            assert escape(f"{CHANGELIST}?status__exact=in_review&country=DE") in back


def test_the_queue_offers_no_facet_counts(as_reviewer, make_request):
    """Django's "Show counts" would COUNT every choice of every filter over the whole table on
    each page (a dozen full scans at a million requests): not offered, not run when asked."""
    make_request()
    page = as_reviewer.get(CHANGELIST).content.decode()
    assert "_facets" not in page and "Show counts" not in page
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as without:
        as_reviewer.get(CHANGELIST)
    with CaptureQueriesContext(connection) as asked:
        response = as_reviewer.get(f"{CHANGELIST}?_facets=True")
    assert response.status_code == 200
    assert len(asked.captured_queries) == len(without.captured_queries)
