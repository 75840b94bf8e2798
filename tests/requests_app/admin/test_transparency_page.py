"""The transparency page (issue 13 item 6): figures counted by hand on a fixture with the
awkward cases (withdrawn after partial production, extended then released, the period's
boundaries at midnight in Brussels), the small-count bands, the charts and the downloads."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from audit import trail as audit
from requests_app import reports

from .conftest import login

pytestmark = pytest.mark.django_db

PAGE = "/admin/requests_app/legalrequest/transparency/"
Q2 = "?kind=quarter&year=2026&number=2"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _moved(request, *states: str) -> None:
    for state in states:
        audit.record("request.status_changed", request=request, authority_id=request.authority_id,
                     data={"to": state})


@pytest.fixture
def world(make_request, make_authority):
    german = make_authority(name="Staatsanwaltschaft Berlin", country="DE", domains=["sta.berlin.de"])
    may = utc(2026, 5, 4, 9)
    r = {
        "produced": make_request(received_at=may, status="produced", targets=("a", "b")),
        "withdrawn_after_partial": make_request(received_at=may, status="withdrawn", targets=("c", "d", "e"),
                                                data_categories=["subscriber", "traffic"]),
        "withdrawn_before": make_request(received_at=may, status="withdrawn", data_categories=["traffic"]),
        "extended_released": make_request(received_at=may, status="released", authority=german, country="DE",
                                          instrument="epoc_pr", lifecycle="preservation"),
        "extension": make_request(received_at=utc(2026, 5, 20), status="closed", authority=german, country="DE",
                                  instrument="preservation_extension", lifecycle="preservation"),
        "refused": make_request(received_at=may, status="refused", authority=german, country="DE"),
        "emergency_open": make_request(received_at=may, emergency=True),
        # 30 June 23:59 in Brussels (CEST): still the second quarter
        "last_minute": make_request(received_at=utc(2026, 6, 30, 21, 59)),
        # 1 July 00:00 in Brussels: the third quarter
        "next_quarter": make_request(received_at=utc(2026, 6, 30, 22, 0)),
        # 1 April 00:00 in Brussels = 31 March 22:00 UTC: the second quarter
        "first_minute": make_request(received_at=utc(2026, 3, 31, 22, 0)),
        # 31 March 23:59:59 in Brussels: the first quarter
        "previous_quarter": make_request(received_at=utc(2026, 3, 31, 21, 59, 59)),
    }
    _moved(r["produced"], "in_review", "approved", "produced")
    _moved(r["withdrawn_after_partial"], "in_review", "approved", "produced", "withdrawn")
    _moved(r["withdrawn_before"], "in_review", "withdrawn")
    _moved(r["extended_released"], "preserving", "released")
    return r


def test_quarter_boundaries_are_midnight_in_brussels():
    period = reports.period_of("quarter", year=2026, number=2)
    assert period.start == utc(2026, 3, 31, 22) and period.end == utc(2026, 6, 30, 22)
    winter = reports.period_of("quarter", year=2026, number=1)
    assert winter.start == utc(2025, 12, 31, 23)  # CET in January
    assert reports.period_of("half", year=2026, number=2).end == utc(2026, 12, 31, 23)
    assert reports.period_of("year", year=2026).start == utc(2025, 12, 31, 23)
    days = reports.period_of("range", first=date(2026, 5, 1), last=date(2026, 5, 31))
    assert (days.start, days.end) == (utc(2026, 4, 30, 22), utc(2026, 5, 31, 22))


@pytest.mark.parametrize("kwargs", [{"kind": "quarter", "year": 2026, "number": 5},
                                    {"kind": "half", "year": 2026, "number": 3},
                                    {"kind": "range", "first": date(2026, 5, 2), "last": date(2026, 5, 1)},
                                    {"kind": "week", "year": 2026}, {"kind": "year", "year": 1999}])
def test_bad_periods_are_refused(kwargs):
    with pytest.raises(ValueError):
        reports.period_of(**kwargs)


def test_figures_counted_by_hand(world):
    figures = reports.transparency_figures(reports.period_of("quarter", year=2026, number=2))
    assert figures["total"] == {"received": 9, "accounts_specified": 12, "emergency": 1, "produced": 2,
                                "preserved": 1, "refused_or_not_executed": 1, "withdrawn": 1,
                                "closed_without_data": 1, "open": 3}
    country = {r["country"]: r for r in figures["country"]}
    assert set(country) == {"FR", "DE"}
    assert (country["FR"]["received"], country["FR"]["accounts_specified"], country["FR"]["produced"],
            country["FR"]["withdrawn"], country["FR"]["open"]) == (6, 9, 2, 1, 3)
    assert (country["DE"]["received"], country["DE"]["preserved"], country["DE"]["refused_or_not_executed"],
            country["DE"]["closed_without_data"]) == (3, 1, 1, 1)
    instrument = {r["instrument"]: r["received"] for r in figures["instrument"]}
    assert instrument == {"epoc": 7, "epoc_pr": 1, "preservation_extension": 1}
    category = {r["data_category"]: (r["received"], r["produced"], r["withdrawn"]) for r in figures["data_category"]}
    assert category == {"subscriber": (8, 2, 0), "traffic": (2, 1, 1)}
    for dimension in ("country", "instrument"):  # exclusive outcomes: each breakdown adds up
        for row in figures[dimension]:
            assert sum(row[o] for o in reports.OUTCOMES) == row["received"]


def test_small_counts_become_bands():
    assert [reports.band(n, 10) for n in (0, 1, 9, 10, 11)] == [0, "1–9", "1–9", 10, 11]
    assert reports.band(2, 3) == "1–2" and reports.band(3, 3) == 3
    assert reports.band(1, 1) == 1  # a threshold of 1 publishes everything


def test_the_page_for_publication(world, reviewer, settings):
    settings.TRANSPARENCY_SMALL_COUNT = 3
    response = login(reviewer).get(PAGE + Q2)
    assert response.status_code == 200
    html = response.content.decode()
    assert "2026 Q2" in html and '<svg xmlns="http://www.w3.org/2000/svg" class="lrp-chart"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "style=" not in html  # strict CSP
    shown = response.context["figures"]
    assert shown["total"]["received"] == 9 and shown["total"]["produced"] == "1–2"
    country = {r["country"]: r for r in shown["country"]}
    assert country["FR"]["received"] == 6 and country["DE"]["received"] == 3
    assert country["DE"]["preserved"] == "1–2" and country["FR"]["preserved"] == 0
    assert "1–2" in html


def test_the_exact_view_and_the_downloads(world, reviewer, settings):
    settings.TRANSPARENCY_SMALL_COUNT = 10
    client = login(reviewer)
    exact = client.get(PAGE + Q2 + "&view=exact").context["figures"]
    assert exact["total"]["produced"] == 2
    data = json.loads(client.get(PAGE + Q2 + "&view=exact&format=json").content)
    assert data["total"]["received"] == 9 and data["period"]["label"] == "2026 Q2"
    published = client.get(PAGE + Q2 + "&format=json")
    assert published["Content-Disposition"].startswith('attachment; filename="transparency-2026-04-01-2026-06-30.json"')
    assert json.loads(published.content)["total"]["produced"] == "1–9"
    rows = list(csv.DictReader(io.StringIO(client.get(PAGE + Q2 + "&view=exact&format=csv").content.decode())))
    total = next(r for r in rows if r["breakdown"] == "total")
    assert total["received"] == "9" and total["accounts_specified"] == "12"
    assert {(r["breakdown"], r["key"]) for r in rows} >= {("country", "FR"), ("instrument", "epoc_pr"),
                                                          ("data_category", "traffic")}


def test_the_page_links_to_downloads_of_the_same_period(world, reviewer):
    html = login(reviewer).get(PAGE + Q2).content.decode()
    assert 'href="?kind=quarter&amp;year=2026&amp;number=2&amp;format=csv"' in html


def test_a_bad_period_is_refused_plainly(reviewer):
    response = login(reviewer).get(PAGE + "?kind=quarter&year=2026&number=9")
    assert response.status_code == 400
    assert "numbered 1 to 4" in response.content.decode() or "less than or equal to 4" in response.content.decode()


def test_default_is_the_last_complete_quarter(reviewer):
    with time_machine.travel(utc(2026, 7, 1, 8), tick=False):
        response = login(reviewer).get(PAGE)
    assert response.status_code == 200 and response.context["period"].label == "2026 Q2"


def test_officers_and_staff_without_a_legal_role_cannot_see_it(officer):
    from accounts.models import User

    helpdesk = User.objects.create_user(email="helpdesk@provider.example", password=None, is_staff=True)
    assert login(helpdesk).get(PAGE + Q2).status_code == 403
    assert login(officer).get(PAGE + Q2).status_code == 302  # to the admin's sign-in
