"""The legal team's admin index as the provider's legal administrator reads it (issue 13 item 4):
the requests first, and none of the plumbing (outbox, idempotency records, login throttling,
the beat schedule) among the legal team's sections. The legal administrator is a superuser
(only a superuser changes staff accounts; ``seed_demo`` makes them one), so their index listed
all of it between the requests and the accounts; it now sits in one "Operations (technical)"
section at the end. A legal administrator who is not a superuser sees none of it.

Screenshot: tests/artifacts/screenshots/admin-index-superuser.png (git-ignored).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import legal_admin_user, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PLUMBING = ["/admin/outbox/outboxmessage/", "/admin/requests_app/idempotencyrecord/", "/admin/axes/accesslog/",
            "/admin/django_celery_beat/periodictask/"]


def test_the_superuser_legal_admin_reads_the_requests_first_and_the_plumbing_apart(page: Page, context,
                                                                                   live_server):
    admin_user = legal_admin_user()
    admin_user.is_superuser = True
    admin_user.save(update_fields=["is_superuser"])
    sign_in(context, admin_user, live_server.url)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/")
    modules = page.locator("#content-main div.module[class*='app-']")
    first = modules.first
    expect(first.locator("caption")).to_contain_text("Legal requests")
    expect(first.locator("a[href='/admin/requests_app/legalrequest/']").first).to_be_visible()
    technical = modules.last
    expect(technical.locator("caption")).to_have_text("Operations (technical)")
    for href in PLUMBING:
        expect(technical.locator(f"a[href='{href}']").first).to_be_visible()
        others = page.locator(f"#content-main div.module[class*='app-']:not(.app-operations) a[href='{href}']")
        expect(others).to_have_count(0)
    screenshot(page, "admin-index-superuser")
    # The plumbing stays where it was for those who need it.
    page.goto("/admin/outbox/outboxmessage/")
    expect(page.locator("#changelist")).to_have_count(1)


def test_a_legal_admin_who_is_no_superuser_sees_no_operations_section(page: Page, context, live_server):
    sign_in(context, legal_admin_user(), live_server.url)
    page.goto("/admin/")
    expect(page.locator("#content-main div.module.app-operations")).to_have_count(0)
    expect(page.locator("#content-main div.module[class*='app-']").first.locator("caption")).to_contain_text(
        "Legal requests")
