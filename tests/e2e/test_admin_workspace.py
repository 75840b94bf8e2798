"""The legal team's workspace in a browser (issue 13 items 4, 5): the queue fits 1280 px without
horizontal scrolling and shows urgency and time-left badges, the action buttons do not cover the
heading, codes read as labels, internal models stay off the index, a prepared response is
"awaiting approval" until a second person approves and releases it, and the dashboard's links
open the queue filtered to what they count (the same number of rows)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import Page

from accounts.models import User
from requests_app.models import LegalRequest, ResponsePackage, Target
from requests_app.permissions import APPROVER, REVIEWER
from requests_app.services import delivery

from .conftest import legal_admin_user, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _requests(authority, officer) -> list[LegalRequest]:
    authority.name = "Direction centrale de la police judiciaire, sous-direction de la lutte contre la cybercriminalité"
    authority.save(update_fields=["name"])
    now = timezone.now()
    made = []
    for n, (status, emergency, due) in enumerate([
        ("in_review", True, now + timedelta(hours=3)),
        ("verification_hold", True, now - timedelta(hours=1)),
        ("awaiting_enforcing_authority", False, now + timedelta(days=9)),
        ("clarification_requested", False, now + timedelta(days=2)),
        ("in_review", False, now + timedelta(hours=5)),
    ], start=1):
        request = LegalRequest.objects.create(  # type: ignore[misc]  # CategoryListField stores a list
            reference=f"LRP-2026-{n:06d}", authority=authority, submitted_by=officer, country="FR",
            instrument="preservation_extension" if n == 3 else "epoc", lifecycle="production", status=status,
            emergency=emergency, data_categories=["subscriber"],
            case_reference=f"PN-2026-{n:04d}",
            receipt_hash="0" * 64, due_at=due, warn_at=due - timedelta(days=1), breach_at=due - timedelta(hours=4),
            assigned_to=None)
        Target.objects.create(request=request, kind="username", value=f"account_{n}")
        made.append(request)
    return made


def _no_horizontal_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px"


def test_the_queue_fits_1280_px(page: Page, context, live_server, authority, officer):
    _requests(authority, officer)
    sign_in(context, legal_admin_user(), live_server.url)
    page.set_viewport_size({"width": 1280, "height": 900})
    response = page.goto("/admin/requests_app/legalrequest/")
    assert response is not None and response.status == 200
    for column in ("reference", "badge", "status", "instrument", "authority", "due", "left"):
        assert page.locator(f"#result_list th.column-{column}").count() == 1, column
    _no_horizontal_scroll(page)
    # Django's results box scrolls on its own: the table must fit inside it, not only the page.
    inner = page.evaluate("(() => { const r = document.querySelector('#changelist-form .results');"
                          " return r.scrollWidth - r.clientWidth; })()")
    assert inner <= 0, f"the queue's table scrolls sideways by {inner} px"
    table = page.locator("#result_list").bounding_box()
    assert table is not None and table["x"] + table["width"] <= 1280
    for column in ("reference", "due", "left"):
        cell = page.locator(f"#result_list th.column-{column}").bounding_box()
        assert cell is not None and cell["x"] + cell["width"] <= 1280, column
    # Urgency and time left are badges a person sees, inside the 1280 px.
    first = page.locator("#result_list tbody tr").first
    assert first.locator(".lrp-badge-emergency").is_visible()
    for level, wanted in (("overdue", 1), ("breach", 1), ("warn", 1)):  # made: 2, 1, 5
        badges = page.locator(f"#result_list td.field-left .lrp-badge-{level}")
        assert badges.count() == wanted, level
        box = badges.first.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1280, level
    assert "overdue" in page.locator("#result_list td.field-left .lrp-badge-overdue").inner_text().lower()
    # Status and instrument as labels, not codes.
    statuses = page.locator("#result_list td.field-status").all_inner_texts()
    assert "In legal review" in statuses and "in_review" not in statuses
    assert "verification_hold" not in " ".join(statuses)
    screenshot(page, "admin-queue-1280")


def test_action_buttons_do_not_cover_the_heading(page: Page, context, live_server, authority, officer):
    request = _requests(authority, officer)[0]
    sign_in(context, legal_admin_user(), live_server.url)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/admin/requests_app/legalrequest/{request.pk}/change/")
    heading = page.locator("#content h1").first.bounding_box()
    assert heading is not None
    for box in [b for b in (page.locator(".object-tools li").nth(i).bounding_box()
                            for i in range(page.locator(".object-tools li").count())) if b]:
        overlaps = not (box["x"] + box["width"] <= heading["x"] or heading["x"] + heading["width"] <= box["x"]
                        or box["y"] + box["height"] <= heading["y"] or heading["y"] + heading["height"] <= box["y"])
        assert not overlaps, (box, heading)
    _no_horizontal_scroll(page)


def test_the_dashboard_links_open_the_queue_filtered(page: Page, context, live_server, authority, officer):
    made = _requests(authority, officer)
    admin = legal_admin_user()
    ResponsePackage.objects.create(request=made[4], prepared_by=admin)
    LegalRequest.objects.filter(pk=made[1].pk).update(received_at=timezone.now() - timedelta(hours=2))
    sign_in(context, admin, live_server.url)
    page.goto("/admin/")
    expected = {"overdue": {made[1].reference}, "emergencies": {made[0].reference, made[1].reference},
                "awaiting_approval": {made[4].reference}, "open": {r.reference for r in made}}
    for figure, references in expected.items():
        page.goto("/admin/")
        count = page.locator(f"a[data-figure={figure}]").locator("xpath=../../td").inner_text()
        assert count.split()[0] == str(len(references)), figure
        page.click(f"a[data-figure={figure}]")
        page.wait_for_selector("#result_list")
        shown = page.locator("#result_list th.field-reference a").all_inner_texts()
        assert set(shown) == references and len(shown) == int(count.split()[0]), figure
    page.goto("/admin/")
    page.click("a[data-figure=oldest_emergency]")
    page.wait_for_url(f"**/legalrequest/{made[1].pk}/change/")


def _member(email: str, role: str) -> User:
    user = User.objects.create_user(email=email, password=None, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def test_a_prepared_response_awaits_approval_and_the_approver_releases_it(page: Page, context, live_server,
                                                                           authority, officer):
    made = _requests(authority, officer)
    reviewer = _member("reviewer@provider.example", REVIEWER)
    approver = _member("approver@provider.example", APPROVER)
    delivery.response_prepare(actor=reviewer, request=made[4], cover_note="Subscriber data.",
                              files=[SimpleUploadedFile("subscriber.csv", b"account_5,2026-01-01\n")])
    sign_in(context, approver, live_server.url)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/requests_app/legalrequest/")
    row = page.locator("#result_list tbody tr", has=page.locator(f"a:text-is('{made[4].reference}')"))
    assert row.locator(".lrp-badge-awaiting-approval").inner_text().lower() == "awaiting approval"
    assert page.locator("#result_list .lrp-badge-awaiting-approval").count() == 1
    page.locator("#changelist-filter a", has_text="awaiting approval").click()
    page.wait_for_url("**approval=awaiting**")
    assert page.locator("#result_list th.field-reference a").all_inner_texts() == [made[4].reference]
    screenshot(page, "admin-queue-awaiting-approval")
    page.click(f"#result_list a:text-is('{made[4].reference}')")
    page.locator(".object-tools a", has_text="Approve the response").click()
    page.wait_for_selector("input[type=submit]")
    page.locator(".submit-row input[type=submit]").click()
    page.wait_for_url(f"**/legalrequest/{made[4].pk}/change/**")
    message = page.locator("ul.messagelist li.success").inner_text()
    assert "approved and released to the authority" in message, message
    screenshot(page, "admin-response-released")
    made[4].refresh_from_db()
    assert made[4].status == "produced"
    page.goto("/admin/requests_app/legalrequest/?approval=awaiting")
    assert page.locator("#result_list").count() == 0 or page.locator("#result_list tbody tr").count() == 0


def test_codes_read_as_labels_and_internal_models_are_off_the_index(page: Page, context, live_server, authority,
                                                                    officer):
    request = _requests(authority, officer)[3]
    LegalRequest.objects.filter(pk=request.pk).update(status="not_executed", resolution="not_executed",
                                                      language="fr", validation_authority_type="investigating_judge")
    sign_in(context, legal_admin_user(), live_server.url)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/admin/requests_app/legalrequest/{request.pk}/change/")
    text = page.locator("#content").inner_text()
    for label in ("Investigating judge", "Not executed", "French (fr)"):
        assert label in text, label
    for raw in ("investigating_judge", "not_executed"):
        assert raw not in text, raw
    _no_horizontal_scroll(page)
    page.goto("/admin/")
    assert page.locator("a[href='/admin/outbox/outboxmessage/']").count() == 0
    assert page.locator("a[href='/admin/requests_app/idempotencyrecord/']").count() == 0
    assert page.locator("a[href='/admin/requests_app/legalrequest/']").count() >= 1
    screenshot(page, "admin-index-dashboard")
