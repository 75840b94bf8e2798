"""The officer's three journeys in the browser, in English, French and German (issue 13 items 1,
2, 8; issue 11 item 5): a request the check says cannot be executed, an emergency and a normal one.

What a person reads: the live check and the request page list each finding once; the provider's
own duties ("preserve now", "produce within 8 hours") stand apart, under "what the provider does",
never as the officer's next step; the deadline is explained in the zone the rule counts in
(Brussels) with the reader's own beside it; citations carry no verification tags.

Screenshots: tests/artifacts/screenshots/officer-journey-*.png (git-ignored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from requests_app.models import LegalRequest
from requests_app.services.submission import request_submit
from requests_app.services.validation import request_validate
from tests.web.conftest import validated

from .conftest import fill_epoc, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHECK = "/requests/check/"
VERIFICATION_TAG = re.compile(r"\[[VSMPA]\]")


@dataclass(frozen=True)
class Reader:
    language: str
    time_zone: str  # the officer's chosen zone ("" = the authority's country: Paris)
    provider_does: str
    # The explanation's anchor in Brussels, then the reader's own zone.
    in_their_zone: re.Pattern[str]


READERS = [
    # Lisbon reads an hour behind Brussels: the same instant, written out.
    Reader("en", "Europe/Lisbon", "What the provider does",
           re.compile(r"Brussels time \(= \w{3} \d{1,2} \w{3} \d{4} \d{2}:\d{2} Lisbon time\)")),
    # Paris reads as Brussels: the reader's zone is named, nothing to convert.
    Reader("fr", "", "Ce que fait le fournisseur", re.compile(r"heure de Bruxelles \(= heure de Paris\)")),
    Reader("de", "Europe/Berlin", "Was der Anbieter tut", re.compile(r"Ortszeit Brüssel \(= Ortszeit Berlin\)")),
]


def as_reader(officer: User, reader: Reader) -> None:
    User.objects.filter(pk=officer.pk).update(language=reader.language, time_zone=reader.time_zone)


def no_script_or_csp_errors(seen) -> None:
    assert seen.page_errors == []
    assert not [e for e in seen.console_errors if "Content Security Policy" in e], seen.console_errors


def provider_duties_apart(page: Page, reader: Reader, *codes: str) -> None:
    duties = page.locator("#provider-duties")
    expect(duties.locator("h3")).to_have_text(reader.provider_does)
    for code in codes:
        expect(duties.locator(f'[data-code="{code}"]')).to_have_count(1)
        expect(page.locator(f'main [data-code="{code}"]')).to_have_count(1)  # nowhere else
    expect(page.locator("#next-steps [data-code]")).to_have_count(0)


@pytest.mark.parametrize("reader", READERS, ids=[r.language for r in READERS])
def test_a_request_that_cannot_be_executed(page: Page, context, live_server, officer, seen, reader):
    as_reader(officer, reader)
    sign_in(context, officer, live_server.url)
    page.goto("/requests/new/")
    fill_epoc(page)
    # Traffic data on a prosecutor's validation: Art. 4(2)(b) wants a judge or a court.
    page.check("input[name=data_categories][value=traffic]")
    with page.expect_response(lambda r: r.url.endswith(CHECK) and r.request.method == "POST"):
        page.uncheck("input[name=data_categories][value=subscriber]")

    # The live check: the problem, and apart from it what the provider does.
    panel = page.locator("#check-results")
    expect(panel.locator('#check-findings [data-code="EE_VALIDATOR_NOT_COMPETENT"]')).to_have_count(1)
    expect(panel.locator('#check-findings [data-code="EE_PRESERVE_ON_RECEIPT"]')).to_have_count(0)
    expect(panel.locator('#check-provider-duties [data-code="EE_PRESERVE_ON_RECEIPT"]')).to_have_count(1)
    expect(panel.locator("#check-provider-duties h3")).to_have_text(reader.provider_does)
    expect(panel).to_contain_text(reader.in_their_zone)

    # "Cannot be executed": the submission asks for a confirmation first, then goes through.
    page.click("#submit-button")
    page.wait_for_load_state()
    assert LegalRequest.objects.count() == 0
    page.check("#id_confirm_not_executable")
    page.click("#submit-button")
    page.wait_for_url(re.compile(r"/requests/LRP-\d{4}-\d{6}/receipt/$"))
    legal_request = LegalRequest.objects.get()
    request_validate(request_id=legal_request.pk)

    page.goto(f"/requests/{legal_request.reference}/")
    main = page.locator("main")
    expect(page.locator("#submitted-targets")).to_contain_text("ticket_seller_75")
    expect(page.locator("#submitted-validation")).to_contain_text("Parquet de Paris")
    expect(page.locator('#next-steps [data-step="upload_validated_order"] a')).to_have_attribute(
        "href", f"/requests/{legal_request.reference}/#attachment-form")
    # The blocking finding once, in its category's row.
    expect(main.locator('[data-code="EE_VALIDATOR_NOT_COMPETENT"]')).to_have_count(1)
    expect(page.locator('#decision-categories tr[data-category="traffic"] [data-code]')).to_have_count(1)
    provider_duties_apart(page, reader, "EE_PRESERVE_ON_RECEIPT")
    expect(page.locator("#deadline-explanation")).to_contain_text(reader.in_their_zone)
    expect(page.locator("#deadline-explanation")).to_contain_text("1182/71")
    expect(main).not_to_contain_text(VERIFICATION_TAG)
    screenshot(page, f"officer-journey-unexecutable-{reader.language}")
    no_script_or_csp_errors(seen)


@pytest.mark.parametrize("reader", READERS, ids=[r.language for r in READERS])
def test_an_emergency_and_a_normal_request(page: Page, context, live_server, officer, seen, reader):
    as_reader(officer, reader)
    officer.refresh_from_db()
    emergency, _ = request_submit(actor=officer, channel="web", data=validated(
        emergency=True, emergency_reason="Child abducted an hour ago; the account is used to negotiate."))
    request_validate(request_id=emergency.pk)
    sign_in(context, officer, live_server.url)

    page.goto(f"/requests/{emergency.reference}/")
    expect(page.locator("#submitted-emergency")).to_contain_text("Child abducted an hour ago")
    expect(page.locator('#next-steps [data-step="await_callback"]')).to_have_count(1)
    # "Produce within 8 hours" is the provider's duty, not the officer's.
    provider_duties_apart(page, reader, "EE_PRESERVE_ON_RECEIPT", "EE_EMERGENCY_VERIFICATION")
    expect(page.locator("#deadline-explanation")).to_contain_text(reader.in_their_zone)
    expect(page.locator("#request-due time")).to_have_attribute("title", re.compile(r" UTC$"))
    screenshot(page, f"officer-journey-emergency-{reader.language}")

    normal, _ = request_submit(actor=officer, channel="web", data=validated())
    request_validate(request_id=normal.pk)
    page.goto(f"/requests/{normal.reference}/")
    expect(page.locator("#next-steps")).to_have_count(0)  # nothing for the officer to do
    provider_duties_apart(page, reader, "EE_PRESERVE_ON_RECEIPT")
    expect(page.locator("#deadlines + table")).to_contain_text(reader.in_their_zone)
    expect(page.locator("main")).not_to_contain_text(VERIFICATION_TAG)
    screenshot(page, f"officer-journey-normal-{reader.language}")
    no_script_or_csp_errors(seen)
