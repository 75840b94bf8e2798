"""The officer's request page in the browser (issue 13 item 2), as a person reads it.

* Submitting what the live check calls "cannot be executed" asks for a confirmation first; once
  confirmed, the request page shows every field submitted, the decision per category and the
  next step ("upload an order validated by a judge"), with its link to the upload form.
* An emergency shows its reason; a closed request shows no due date and nothing to preserve.
* A download that needs the password again comes back to the request page, and the file arrives.

Screenshots: tests/artifacts/screenshots/request-page-*.png (git-ignored; tests/e2e/conftest.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from audit.models import AuditEvent
from requests_app.models import LegalRequest
from requests_app.services import review
from requests_app.services.submission import request_withdraw
from requests_app.services.validation import request_validate
from requests_app.states import Status
from tests.web.conftest import validated

from .conftest import fill_epoc, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW = "/requests/new/"
CHECK = "/requests/check/"
PRESERVE_NOW = re.compile(r"preserve\b[^.]*\b(now|until)\b|expires", re.IGNORECASE)


def no_script_or_csp_errors(seen) -> None:
    assert seen.page_errors == []
    assert not [e for e in seen.console_errors if "Content Security Policy" in e], seen.console_errors


def test_an_unexecutable_request_is_confirmed_then_its_page_says_what_was_sent_and_what_to_do(
        page: Page, context, live_server, officer, seen):
    sign_in(context, officer, live_server.url)
    page.goto(NEW)
    fill_epoc(page)
    page.check("#id_confidential")
    page.fill("#id_confidentiality_reason", "Covert investigation under way.")
    # Traffic data only, on a prosecutor's validation, for the police: Art. 4(2)(b) wants a judge,
    # so nothing can be executed (with subscriber data too it would be partly executable).
    page.check("input[name=data_categories][value=traffic]")
    with page.expect_response(lambda r: r.url.endswith(CHECK) and r.request.method == "POST"):
        page.uncheck("input[name=data_categories][value=subscriber]")
    confirm = page.locator("#id_confirm_not_executable")
    expect(confirm).to_be_visible()

    # Submitting without ticking it stores nothing and says why.
    page.click("#submit-button")
    page.wait_for_load_state()
    assert page.url.endswith(NEW)
    expect(page.locator("#id_confirm_not_executable")).to_be_visible()
    expect(page.locator("main")).to_contain_text("confirm that you want to submit it anyway")
    assert LegalRequest.objects.count() == 0
    screenshot(page, "request-page-confirm-unexecutable", full_page=False)

    # The form kept what was typed; ticked, the request is submitted.
    expect(page.locator("#id_targets-0-value")).to_have_value("ticket_seller_75")
    page.check("#id_confirm_not_executable")
    page.click("#submit-button")
    page.wait_for_url(re.compile(r"/requests/LRP-\d{4}-\d{6}/receipt/$"))
    legal_request = LegalRequest.objects.get()
    request_validate(request_id=legal_request.pk)  # what the worker does
    legal_request.refresh_from_db()
    assert legal_request.is_open

    page.goto(f"/requests/{legal_request.reference}/")
    submitted = page.locator("#submitted-fields")
    expect(submitted).to_contain_text(str(legal_request.get_instrument_display()))
    expect(page.locator("#request-categories")).to_have_text("Traffic data")
    expect(page.locator("#submitted-targets")).to_contain_text("ticket_seller_75")
    expect(page.locator("#submitted-range time").first).to_contain_text("(Europe/Paris)")
    expect(page.locator("#submitted-range time").first).to_have_attribute("title", re.compile(r" UTC$"))
    expect(page.locator("#submitted-offence")).to_contain_text("Fraud (escroquerie)")
    expect(page.locator("#submitted-offence")).to_contain_text("Art. 313-1 Code pénal")
    expect(page.locator("#submitted-offence")).to_contain_text("maximum sentence 60 months")
    expect(page.locator("#submitted-validation")).to_contain_text("Parquet de Paris")
    expect(page.locator("#submitted-validation")).to_contain_text("PQ-2026-17")
    expect(page.locator("#submitted-confidentiality")).to_contain_text("Confidential")
    expect(page.locator("#submitted-confidentiality")).to_contain_text("Covert investigation under way.")
    expect(page.locator("main")).not_to_contain_text("traffic,")  # labels, not stored values

    # The decision per category: traffic data cannot be executed, with why; the engine only proposes.
    expect(page.locator("#outcome-pending")).to_contain_text("legal team reviews it and decides")
    table = page.locator("#decision-categories")
    traffic = table.locator('tr[data-category="traffic"]')
    expect(traffic).to_contain_text("Cannot be executed as it stands")
    expect(traffic).to_contain_text("Art. 4(2)")

    # The next step, and its link to the upload form on the same page.
    step = page.locator('#next-steps [data-step="upload_validated_order"]')
    expect(step).to_contain_text("validated by a judge or a court")
    step.locator("a").click()
    expect(page.locator("#attachment-form")).to_be_in_viewport()
    screenshot(page, "request-page-next-step")
    no_script_or_csp_errors(seen)


def test_an_emergency_shows_its_reason_and_a_withdrawn_request_no_due_date(page: Page, context, live_server,
                                                                          officer, seen):
    from requests_app.services.submission import request_submit

    emergency, _ = request_submit(actor=officer, channel="web", data=validated(
        emergency=True, emergency_reason="Child abducted an hour ago; the account is used to negotiate."))
    request_validate(request_id=emergency.pk)
    sign_in(context, officer, live_server.url)
    page.goto(f"/requests/{emergency.reference}/")
    expect(page.locator("#submitted-emergency")).to_contain_text("Child abducted an hour ago")
    expect(page.locator("#submitted-confidentiality")).to_contain_text("Not confidential")

    ordinary, _ = request_submit(actor=officer, channel="web", data=validated())
    request_validate(request_id=ordinary.pk)
    ordinary.refresh_from_db()
    assert ordinary.due_at is not None
    page.goto(f"/requests/{ordinary.reference}/")
    expect(page.locator("#request-due time")).to_contain_text("(Europe/Paris)")
    request_withdraw(actor=officer, request=ordinary, reason="Suspect identified otherwise.")
    page.reload()
    expect(page.locator("#request-status")).to_contain_text(str(Status.WITHDRAWN.label))
    expect(page.locator("#request-due")).to_have_count(0)
    expect(page.locator("#deadlines")).to_have_count(0)
    expect(page.locator("#attachment-form")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(PRESERVE_NOW)
    screenshot(page, "request-page-withdrawn")
    no_script_or_csp_errors(seen)


def test_a_released_preservation_shows_nothing_to_preserve(page: Page, context, live_server, officer, reviewer,
                                                           seen):
    from requests_app.services.submission import request_submit

    preservation, _ = request_submit(actor=officer, channel="web", data=validated(
        instrument="epoc_pr", data_categories=["subscriber", "content"]))
    request_validate(request_id=preservation.pk)
    preservation.refresh_from_db()
    assert preservation.status == Status.PRESERVING
    review.preservation_release(actor=reviewer, request=preservation, reason="Case closed.")
    sign_in(context, officer, live_server.url)
    page.goto(f"/requests/{preservation.reference}/")
    expect(page.locator("#request-status")).to_contain_text(str(Status.RELEASED.label))
    expect(page.locator("#request-due")).to_have_count(0)
    expect(page.locator("#deadlines")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(PRESERVE_NOW)
    screenshot(page, "request-page-released")
    no_script_or_csp_errors(seen)


def test_after_a_download_the_officer_is_back_on_the_request(page: Page, context, live_server, officer, reviewer,
                                                             seen):
    from requests_app.services.submission import request_submit

    legal_request, _ = request_submit(actor=officer, channel="web", data=validated())
    request_validate(request_id=legal_request.pk)
    legal_request.refresh_from_db()
    review.clarification_request(actor=reviewer, request=legal_request, clarification_asked="Which account?")
    sign_in(context, officer, live_server.url)
    detail = f"/requests/{legal_request.reference}/"
    page.goto(detail)
    # The next step while the legal team waits for an answer, with its link.
    step = page.locator('#next-steps [data-step="answer_clarification"]')
    expect(step).to_contain_text("the deadline is paused until you do")
    expect(step.locator("a")).to_have_attribute("href", f"{detail}clarification/")

    # The Annex III form needs the password again (a signed-in session older than a few minutes).
    page.locator("a[href*='/annex-iii/']").first.click()
    page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("#id_password", "correct-horse-battery")
    with page.expect_download() as download:
        page.locator("main form button[type=submit]").click()
    assert download.value.suggested_filename.endswith(".pdf")
    page.wait_for_url(re.compile(rf"{re.escape(detail)}(\?.*)?$"))
    expect(page.locator("h1")).to_contain_text(legal_request.reference)
    expect(page.locator("#download-started")).to_be_visible()
    assert AuditEvent.objects.filter(action="annex_iii.downloaded", request_id=legal_request.pk).count() == 1
    screenshot(page, "request-page-after-download")
    no_script_or_csp_errors(seen)
