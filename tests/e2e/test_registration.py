"""The legal team registers, in the admin, an order received by post yesterday; its deadline runs from yesterday.

Chromium drives the registration page: the authority from the registry, "post", the receipt time
as stated on the receipt stamp, the portal's request fields with their live rule check (htmx), the
scanned order as a PDF. The validation task is then run as the worker would; the admin's request
page and the authority's API both show the due time counted from the stated receipt.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pikepdf
import pytest
from django.utils import timezone
from playwright.sync_api import FilePayload, Page, expect

from audit.models import AuditEvent
from requests_app.models import LegalRequest
from requests_app.services.validation import request_validate
from tests.conftest import client_for

from .conftest import fill_epoc, legal_admin_user, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("default_instant")]

QUEUE = "/admin/requests_app/legalrequest/"
CHECK = f"{QUEUE}register/check/"
BRUSSELS = ZoneInfo("Europe/Brussels")


def scanned_order() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def test_the_legal_team_registers_an_order_received_by_post_yesterday(page: Page, context, live_server, authority,
                                                                       officer, seen):

    legal = legal_admin_user()
    received = (timezone.now() - timedelta(days=1)).replace(second=0, microsecond=0)
    sign_in(context, legal, live_server.url)

    page.goto(QUEUE)
    page.click("#register-request")
    expect(page.locator("#section-registration")).to_be_visible()
    page.select_option("#id_authority", str(authority.pk))
    page.select_option("#id_channel", "post")
    page.fill("#id_received_at", received.astimezone(BRUSSELS).strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#id_received_timezone", "Europe/Brussels")
    fill_epoc(page)
    page.set_input_files("#id_order_file", files=[FilePayload(name="order-scan.pdf", mimeType="application/pdf",
                                                              buffer=scanned_order())])

    # The portal's live rule check, with the chosen authority as issuer.
    with page.expect_response(lambda r: r.url.endswith(CHECK) and r.request.method == "POST") as checked:
        page.click("#check-button")
    assert checked.value.status == 200
    expect(page.locator("#check-results")).to_be_visible()
    assert LegalRequest.objects.count() == 0  # checking stores nothing
    screenshot(page, "registration-post-yesterday")

    page.click("#submit-button")
    page.wait_for_url(re.compile(r"/admin/requests_app/legalrequest/\d+/change/$"))
    request = LegalRequest.objects.get()
    expect(page.locator(".messagelist")).to_contain_text(f"Registered as {request.reference}")
    assert (request.channel, request.received_at, request.authority_id) == ("post", received, authority.pk)
    assert request.attachments.filter(kind="order").count() == 1
    registered = AuditEvent.objects.get(action="request.registered", request_id=request.pk)
    assert registered.actor_id == legal.pk and registered.data["channel"] == "post"

    # The worker validates it; the deadline runs from yesterday's receipt, not from the registration.
    request_validate(request_id=request.pk)
    request.refresh_from_db()
    due = received + timedelta(days=10)  # EPOC: 10 days from receipt (Reg. (EU) 2023/1543 Art. 10(2))
    assert request.due_at == due

    page.reload()
    due_row = page.locator(".field-due_at")
    expect(due_row).to_contain_text(f"{due:%Y}")
    # In the viewer's zone (the provider's, for the legal team), labelled (issue 13 item 1).
    local = timezone.localtime(due, ZoneInfo("Europe/Brussels"))
    expect(due_row).to_contain_text(f"{local:%Y-%m-%d %H:%M} {local:%Z} (Europe/Brussels)")
    expect(page.locator(".field-channel")).to_contain_text("Post")

    # The authority's officer sees it in the portal's API, with the same due time.
    answer = client_for(officer).get(f"/api/v1/requests/{request.reference}/")
    assert answer.status_code == 200
    assert answer.json()["due_at"].replace("Z", "+00:00").startswith(due.isoformat()[:19])
    assert answer.json()["received_at"].replace("Z", "+00:00").startswith(received.isoformat()[:19])
    assert seen.page_errors == [] and not [e for e in seen.console_errors if "Content Security Policy" in e]
