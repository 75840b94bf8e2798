"""The rules' decision on the legal team's request page, as a reviewer reads it (issue 13 items 1
and 4): each deadline's due time in the reader's zone, labelled, UTC on hover (it was the stored
ISO string in UTC, ``2026-12-13T12:47:36.886684+00:00``, under a "Due (UTC)" heading); the
deadline's kind and the data categories as labels, not codes (``production_due``,
``subscriber``); the explanation in the page's language.

Screenshot: tests/artifacts/screenshots/admin-request-decision.png (git-ignored).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from accounts.services import user_set_time_zone
from requests_app.services.submission import request_submit
from requests_app.services.validation import request_validate
from tests.web.conftest import validated

from .conftest import legal_admin_user, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _validated_request(officer):
    legal_request, _ = request_submit(actor=officer, channel="web",
                                      data=validated(data_categories=["subscriber", "traffic"]))
    request_validate(request_id=legal_request.pk)
    legal_request.refresh_from_db()
    return legal_request


@pytest.mark.parametrize("zone", ["Europe/Brussels", "Europe/Lisbon"])
def test_the_decisions_deadlines_read_in_the_readers_zone_with_labels(page: Page, context, live_server, officer,
                                                                      zone):
    legal_request = _validated_request(officer)
    [deadline] = [d for d in legal_request.decision["deadlines"] if d["kind"] == "production_due"]
    reader = legal_admin_user()
    if zone != "Europe/Brussels":  # the provider's zone is the legal team's default
        user_set_time_zone(user=reader, time_zone=zone)
    sign_in(context, reader, live_server.url)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/admin/requests_app/legalrequest/{legal_request.pk}/change/")

    instant = datetime.fromisoformat(deadline["due_at"])
    local = instant.astimezone(ZoneInfo(zone))
    table = page.locator("table.lrp-table", has=page.locator("caption", has_text="Deadlines"))
    header = table.locator("thead").inner_text()
    assert "UTC" not in header, header
    row = table.locator("tr.lrp-deadline").first
    due = row.locator("time")
    expect(due).to_have_text(f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({zone})")
    expect(due).to_have_attribute("title", f"{instant.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    expect(row).to_contain_text("Production period ends")
    body = page.locator("#content").inner_text()
    for code in ("production_due", deadline["due_at"]):
        assert code not in body, code
    verdicts = page.locator("table.lrp-table", has=page.locator("caption", has_text="Verdicts per data category"))
    expect(verdicts.locator("tbody tr td:first-child")).to_have_text(["Subscriber data", "Traffic data"])
    expect(page.locator(".field-data_categories_label .readonly")).to_have_text("Subscriber data, Traffic data")
    screenshot(page, f"admin-request-decision-{zone.replace('/', '-')}")
