"""The transparency report as the legal team reads it at 1280 px (issue 13 item 6): the page
does not scroll sideways (its tables of twenty figures a row scroll inside their own box), and
every bar of a chart carries its whole label (it was cut at 32 characters and clipped at 200 px:
"European Preservation Order (EPO"). The downloads keep the reader on the page.

Screenshot: tests/artifacts/screenshots/transparency-1280.png (git-ignored).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from requests_app.models import LegalRequest
from requests_app.states import Instrument

from .conftest import legal_admin_user, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

INSTRUMENTS = ["epoc", "epoc_pr", "dsa_removal_order"]
LIFECYCLES = {"epoc": "production", "epoc_pr": "preservation", "dsa_removal_order": "dsa"}


def _received_today(authority, officer) -> None:
    for n, instrument in enumerate(INSTRUMENTS, start=1):
        LegalRequest.objects.create(  # type: ignore[misc]  # CategoryListField stores a list
            reference=f"LRP-2026-{n:06d}", authority=authority, submitted_by=officer, country="FR",
            instrument=instrument, lifecycle=LIFECYCLES[instrument],
            status="in_review", data_categories=["subscriber"], case_reference=f"PN-{n}", receipt_hash="0" * 64,
            received_at=timezone.now() - timedelta(minutes=n))


def test_the_report_fits_1280_px_and_its_bars_carry_their_whole_labels(page: Page, context, live_server,
                                                                       authority, officer):
    _received_today(authority, officer)
    sign_in(context, legal_admin_user(), live_server.url)
    page.set_viewport_size({"width": 1280, "height": 900})
    # Days either side: the report counts days in the provider's zone, which may already be
    # tomorrow (the awkward clock: 23:30 UTC is 00:30 in Brussels).
    today = timezone.now().date()
    page.goto(f"/admin/requests_app/legalrequest/transparency/?kind=range&first={today - timedelta(days=1)}"
              f"&last={today + timedelta(days=1)}&view=exact")
    expect(page.locator("#lrp-total td[data-column=received]")).to_have_text("3")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px"

    chart = page.locator("svg.lrp-chart", has=page.locator("title", has_text="Requests received by instrument"))
    labels = dict(Instrument.choices)
    for code in INSTRUMENTS:
        text = chart.locator("text", has_text=str(labels[code])[:20]).first
        expect(text).to_have_text(str(labels[code]))
        # The label ends before its bar starts: nothing drawn over it, nothing clipped.
        label_end = text.evaluate("t => t.getBBox().x + t.getComputedTextLength()")
        bar_start = float(chart.locator("rect").first.get_attribute("x") or 0)
        assert label_end < bar_start, (labels[code], label_end, bar_start)
    screenshot(page, "transparency-1280")

    with page.expect_download() as download:
        page.click("#lrp-download-csv")
    assert download.value.suggested_filename.endswith(".csv")
    assert "/transparency/" in page.url and "format=" not in page.url
