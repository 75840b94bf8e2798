"""The legal team's list of accounts as the legal administrator reads it (issue 13 item 4: labels
that say what is true): approval is an officer's, so a member of the legal team shows "—" where
the list said "Awaiting approval" of every colleague (their ``approval_status`` keeps the
model's default, pending, and means nothing for staff); an officer's approval reads as before.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import ApprovalStatus, User

from .conftest import legal_admin_user, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _row(page: Page, email: str):
    return page.locator("#result_list tbody tr", has=page.locator(f"th:has-text('{email}'), td:has-text('{email}')"))


def test_colleagues_are_not_awaiting_approval_officers_are(page: Page, context, live_server, officer, authority):
    colleague = User.objects.create_user(email="reviewer@provider.example", password=None, is_staff=True)
    assert colleague.approval_status == ApprovalStatus.PENDING  # the model's default, meaningless for staff
    pending = User.objects.create_user(email="pending@interieur.gouv.fr", password=None, authority=authority)
    User.objects.filter(pk=pending.pk).update(approval_status=ApprovalStatus.PENDING)
    admin_user = legal_admin_user()
    admin_user.is_superuser = True  # the one who manages staff accounts
    admin_user.save(update_fields=["is_superuser"])
    sign_in(context, admin_user, live_server.url)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/accounts/user/")
    for staff_email in (colleague.email, admin_user.email):
        expect(_row(page, staff_email).locator("td.field-approval")).to_have_text("—")
    expect(_row(page, pending.email).locator("td.field-approval")).to_have_text("Awaiting approval")
    expect(_row(page, officer.email).locator("td.field-approval")).to_have_text(
        str(ApprovalStatus(officer.approval_status).label))
    screenshot(page, "admin-users")
    page.goto(f"/admin/accounts/user/{colleague.pk}/change/")
    expect(page.locator(".field-approval .readonly")).to_have_text("—")
