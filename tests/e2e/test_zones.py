"""Times as a person sees them in a browser (issue 13 item 1, Tests): the officer reads the
range they entered in their own zone, labelled, UTC on hover; the legal team reads the same
instant in the admin in theirs; a zone chosen in the profile applies at once.

The range is the issue's example: from 1 Sep 2026 00:00 in Paris (31 Aug 22:00 UTC), which the
admin showed as "Aug. 31, 2026, 10 p.m.". Screenshots: tests/artifacts/screenshots/zones-*.png
(git-ignored; tests/e2e/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from requests_app.models import LegalRequest, Target

from .conftest import STEP_TIMEOUT_MS, legal_admin_user, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FROM = datetime(2026, 8, 31, 22, 0, tzinfo=UTC)  # 1 Sep 2026 00:00 Paris (CEST)
TO = datetime(2026, 9, 7, 21, 59, tzinfo=UTC)


def _request(authority, officer) -> LegalRequest:
    request = LegalRequest.objects.create(  # type: ignore[misc]  # CategoryListField stores a list
        reference="LRP-2026-000777", authority=authority, submitted_by=officer, country="FR", instrument="epoc",
        lifecycle="production", status="in_review", data_categories=["subscriber"], case_reference="PN-2026-0777",
        receipt_hash="0" * 64, data_from=FROM, data_to=TO, due_at=timezone.now() + timedelta(days=5))
    Target.objects.create(request=request, kind="username", value="ticket_seller_75")
    return request


def test_the_officer_reads_the_range_in_paris_time(page: Page, context, live_server, authority, officer):
    request = _request(authority, officer)
    sign_in(context, officer, live_server.url)
    page.goto(f"/requests/{request.reference}/")
    first = page.locator("#submitted-range time").first
    expect(first).to_have_text("2026-09-01 00:00 CEST (Europe/Paris)")
    expect(first).to_have_attribute("title", "2026-08-31 22:00 UTC")
    due = page.locator("#request-due time")
    expect(due).to_contain_text("(Europe/Paris)")
    screenshot(page, "zones-officer-request")


def test_a_zone_chosen_in_the_profile_applies_to_the_request_page(page: Page, context, live_server, authority,
                                                                  officer):
    request = _request(authority, officer)
    sign_in(context, officer, live_server.url)
    page.goto("/settings/time-zone/")
    page.select_option("#id_time_zone", "America/New_York")
    page.locator("#time-zone-form button[type=submit], #time-zone-form input[type=submit]").first.click()
    page.wait_for_load_state()
    expect(page.locator("#time-zone-now time")).to_contain_text("(America/New_York)")
    page.goto(f"/requests/{request.reference}/")
    first = page.locator("#submitted-range time").first
    expect(first).to_have_text("2026-08-31 18:00 EDT (America/New_York)")
    expect(first).to_have_attribute("title", "2026-08-31 22:00 UTC")
    screenshot(page, "zones-officer-new-york")


def test_the_legal_team_reads_the_same_instant_in_the_admin_in_brussels_time(page: Page, context, live_server,
                                                                            authority, officer):
    request = _request(authority, officer)
    sign_in(context, legal_admin_user(), live_server.url)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/admin/requests_app/legalrequest/{request.pk}/change/")
    data_from = page.locator(".field-data_from .readonly time")
    expect(data_from).to_have_text("2026-09-01 00:00 CEST (Europe/Brussels)")
    expect(data_from).to_have_attribute("title", "2026-08-31 22:00 UTC")
    expect(page.locator("body")).not_to_contain_text("Aug. 31, 2026, 10 p.m.")
    for field in ("received_at", "due_at"):
        expect(page.locator(f".field-{field} .readonly time")).to_contain_text("(Europe/Brussels)")
    screenshot(page, "zones-admin-request")
    page.goto("/admin/requests_app/legalrequest/")
    due = page.locator("#result_list td.field-due time").first
    expect(due).to_contain_text("CEST")
    title = due.get_attribute("title") or ""
    assert "(Europe/Brussels)" in title and title.endswith(" UTC"), title
    screenshot(page, "zones-admin-queue")


def test_a_browser_in_another_zone_changes_nothing(browser, live_server, authority, officer):
    """What is shown follows the person's setting, not the browser's clock."""
    request = _request(authority, officer)
    context = browser.new_context(base_url=live_server.url, locale="en-GB", timezone_id="Asia/Tokyo")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        sign_in(context, officer, live_server.url)
        page = context.new_page()
        page.goto(f"/requests/{request.reference}/")
        expect(page.locator("#submitted-range time").first).to_have_text("2026-09-01 00:00 CEST (Europe/Paris)")
    finally:
        context.close()


def test_the_profile_names_the_zone_default_resolves_to(page: Page, context, live_server, officer):
    sign_in(context, officer, live_server.url)
    page.goto("/profile/")
    expect(page.locator("#profile-time-zone")).to_contain_text("Default (Europe/Paris, from your authority's country)")
    page.goto("/settings/time-zone/")
    expect(page.locator("#id_time_zone option").first).to_have_text(
        "Default (Europe/Paris, from your authority's country)")
    screenshot(page, "zones-profile-default")
