"""The transparency page (issue 13 item 6): figures counted by hand on a fixture with the
awkward cases (withdrawn after partial production, extended then released, the period's
boundaries at midnight in Brussels), the small-count bands, the charts and the downloads."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from audit import trail as audit
from requests_app import reports
from requests_app.models import AnnexIII

from .conftest import login

pytestmark = pytest.mark.django_db

PAGE = "/admin/requests_app/legalrequest/transparency/"
Q2 = "?kind=quarter&year=2026&number=2"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _moved(request, *moves: tuple[float, str]) -> None:
    """Audit the moves of ``request``, each ``hours`` after its receipt (the report's times)."""
    for hours, state in moves:
        with time_machine.travel(request.received_at + timedelta(hours=hours), tick=False):
            audit.record("request.status_changed", request=request, authority_id=request.authority_id,
                         data={"to": state})


def _annex_iii(request, reasons, *, partial=False, sent=True, superseded=False) -> None:
    AnnexIII.objects.create(request=request, kind="non_execution", reasons=reasons, partial=partial,
                            approved_at=utc(2026, 5, 10) if sent else None, sent_at=utc(2026, 5, 10) if sent else None,
                            superseded_at=utc(2026, 5, 9) if superseded else None)


@pytest.fixture
def world(make_request, make_authority):
    """Thirteen requests in 2026 Q2 (Brussels), two just outside it; counted by hand below."""
    german = make_authority(name="Staatsanwaltschaft Berlin", country="DE", domains=["sta.berlin.de"])
    may = utc(2026, 5, 4, 9)
    de = {"authority": german, "country": "DE"}
    r = {
        "produced": make_request(received_at=may, status="produced", targets=("a", "b")),
        # Data produced for the subscriber data, traffic data not executed (partial Annex III), then withdrawn.
        "withdrawn_after_partial": make_request(received_at=may, status="withdrawn", targets=("c", "d", "e"),
                                                data_categories=["subscriber", "traffic"]),
        "withdrawn_before": make_request(received_at=may, status="withdrawn", data_categories=["traffic"]),
        "extended_released": make_request(received_at=may, status="released", instrument="epoc_pr",
                                          lifecycle="preservation", **de),
        "refused": make_request(received_at=may, status="not_executed", **de),
        "rerouted": make_request(received_at=may, status="rerouted", instrument="national_order", **de),
        "emergency_open": make_request(received_at=may, emergency=True, confidential=True),
        "dsa_a": make_request(received_at=utc(2026, 5, 4, 9), status="produced", instrument="dsa_removal_order",
                              lifecycle="dsa", data_categories=[]),
        "dsa_b": make_request(received_at=utc(2026, 5, 5, 9), status="closed", instrument="dsa_removal_order",
                              lifecycle="dsa", data_categories=[]),
        "dsa_c": make_request(received_at=utc(2026, 5, 6, 9), instrument="dsa_information_order", lifecycle="dsa",
                              data_categories=[], **de),
        # 30 June 23:59 in Brussels (CEST): still the second quarter
        "last_minute": make_request(received_at=utc(2026, 6, 30, 21, 59)),
        # 1 July 00:00 in Brussels: the third quarter
        "next_quarter": make_request(received_at=utc(2026, 6, 30, 22, 0)),
        # 1 April 00:00 in Brussels = 31 March 22:00 UTC: the second quarter
        "first_minute": make_request(received_at=utc(2026, 3, 31, 22, 0)),
        # 31 March 23:59:59 in Brussels: the first quarter
        "previous_quarter": make_request(received_at=utc(2026, 3, 31, 21, 59, 59), status="produced"),
    }
    # The Annex VI extension, applied to the order it refers to (services.validation closes it).
    r["extension"] = make_request(received_at=utc(2026, 5, 20), status="closed", instrument="preservation_extension",
                                  lifecycle="preservation", linked_request=r["extended_released"],
                                  resolution="preservation_extended", **de)
    _moved(r["produced"], (2, "in_review"), (40, "approved"), (50, "produced"))
    _moved(r["withdrawn_after_partial"], (2, "in_review"), (30, "approved"), (31, "produced"), (32, "withdrawn"))
    _annex_iii(r["withdrawn_after_partial"], [{"identifier": "c", "data_category": "traffic",
                                                "reasons": ["offence_outside_art_5_4"]}], partial=True)
    _moved(r["withdrawn_before"], (2, "in_review"), (3, "withdrawn"))
    _moved(r["extended_released"], (1, "preserving"), (600, "released"))
    _moved(r["refused"], (2, "in_review"), (90, "not_executed"))
    # The identifier "other" is no reason; the superseded draft's reason was never sent.
    _annex_iii(r["refused"], [{"identifier": "other", "reasons": ["not_issued_per_art_4", "incomplete"]}])
    _annex_iii(r["refused"], [{"identifier": "x", "reasons": ["manifest_errors"]}], sent=False, superseded=True)
    _moved(r["rerouted"], (2, "in_review"), (5, "rerouted"))
    _moved(r["dsa_a"], (1, "in_review"), (8, "approved"), (10, "produced"))
    _moved(r["dsa_b"], (3, "in_review"), (29, "approved"), (30, "produced"), (100, "closed"))
    _moved(r["dsa_c"], (2, "in_review"))
    _moved(r["previous_quarter"], (1, "in_review"), (2, "produced"))
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


Q2_TOTAL = {
    "received": 13, "accounts_specified": 16, "emergency": 1, "confidential": 1,
    "some_data_produced": 4, "no_data": 5, "not_executed": 1, "rerouted": 1, "withdrawn": 1,
    "released_without_data": 1, "closed_without_data": 1, "open": 4,
    "preservation_orders": 1, "preserved": 1, "extension_requests": 1, "extended": 1, "dsa_orders": 3,
    "share_with_data_produced": 0.444,
    # DSA orders: acknowledged after 1, 3 and 2 hours; given effect after 10 and 30 hours.
    "dsa_median_hours_to_acknowledge": 2.0, "dsa_median_hours_to_effect": 20.0,
    "not_executed__not_issued_per_art_4": 1, "not_executed__incomplete": 1,
    "not_executed__offence_outside_art_5_4": 1, "not_executed__other": 0, "not_executed__manifest_errors": 0,
}


def test_figures_counted_by_hand(world):
    figures = reports.transparency_figures(reports.period_of("quarter", year=2026, number=2))
    total = figures["total"]
    assert {k: total[k] for k in Q2_TOTAL} == Q2_TOTAL
    assert set(total) == set(reports.COLUMNS_OF_A_ROW)
    country = {r["country"]: r for r in figures["country"]}
    assert set(country) == {"FR", "DE"}
    fr, de = country["FR"], country["DE"]
    assert (fr["received"], fr["accounts_specified"], fr["some_data_produced"], fr["withdrawn"], fr["open"],
            fr["dsa_orders"], fr["dsa_median_hours_to_acknowledge"], fr["dsa_median_hours_to_effect"]) == (
        8, 11, 4, 1, 3, 2, 2.0, 20.0)
    assert (de["received"], de["released_without_data"], de["closed_without_data"], de["not_executed"],
            de["rerouted"], de["open"], de["extended"], de["dsa_median_hours_to_acknowledge"],
            de["dsa_median_hours_to_effect"]) == (5, 1, 1, 1, 1, 1, 1, 2.0, None)
    instrument = {r["instrument"]: r["received"] for r in figures["instrument"]}
    assert instrument == {"epoc": 7, "epoc_pr": 1, "preservation_extension": 1, "national_order": 1,
                          "dsa_removal_order": 2, "dsa_information_order": 1}
    category = {r["data_category"]: (r["received"], r["some_data_produced"], r["withdrawn"],
                                     r["not_executed__offence_outside_art_5_4"], r["not_executed__incomplete"])
                for r in figures["data_category"]}
    assert category == {"subscriber": (9, 2, 0, 1, 1), "traffic": (2, 1, 1, 1, 0)}
    pairs = {(r["country"], r["instrument"]): r for r in figures["country_instrument"]}
    removal = pairs[("FR", "dsa_removal_order")]
    assert (removal["received"], removal["dsa_median_hours_to_acknowledge"],
            removal["dsa_median_hours_to_effect"]) == (2, 2.0, 20.0)
    for dimension in ("country", "instrument", "country_instrument"):  # exclusive outcomes: each adds up
        assert sum(row["received"] for row in figures[dimension]) == 13
        for row in figures[dimension]:
            assert sum(row[o] for o in reports.OUTCOMES) == row["received"]
            assert row["some_data_produced"] + row["no_data"] + row["open"] == row["received"]


def aggregating_statements(run) -> list[str]:
    """The statements that read (the transaction's SAVEPOINT and SET LOCAL work_mem aside, and
    the one-row read of whether the monthly summary is in use)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        run()
    return [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith(("WITH", "SELECT"))
            and reports.SUMMARY_STATE_TABLE not in q["sql"]]


def test_every_figure_is_counted_by_the_database_in_three_statements(world):
    """The counts, the DSA medians (percentile_cont) and the Annex III reasons: three aggregating
    statements whatever the number of requests; no request row is loaded into Python."""
    statements = aggregating_statements(
        lambda: reports.transparency_figures(reports.period_of("quarter", year=2026, number=2)))
    assert len(statements) == 3
    assert "GROUP BY" in statements[0] and "percentile_cont(0.5)" in statements[1]


def test_the_python_median_fallback_agrees_with_the_database(world):
    """The embedded SQLite default has no percentile_cont: its fallback gives the same medians."""
    period = reports.period_of("quarter", year=2026, number=2)
    orders, params = reports._dsa_times(period)
    medians = reports._python_medians(orders, params)
    assert medians[("total", "", "")] == pytest.approx((2.0, 20.0))
    ack, effect = medians[("country", "DE", "")]
    assert ack == pytest.approx(2.0) and effect is None
    figures = reports.transparency_figures(period)
    for row in figures["country"]:
        ack, effect = medians[("country", row["country"], "")]
        assert row["dsa_median_hours_to_acknowledge"] == (None if ack is None else round(ack, 2))
        assert row["dsa_median_hours_to_effect"] == (None if effect is None else round(effect, 2))


def test_the_audit_indexes_cover_what_the_report_reads():
    """audit.models cannot import requests_app: its copy of the acknowledging states must stay
    the report's, or the partial index no longer serves the report's first-acknowledgement probe."""
    from audit.models import REPORT_ACKNOWLEDGED, AuditEvent

    assert [str(s) for s in reports.ACKNOWLEDGED] == REPORT_ACKNOWLEDGED
    names = {index.name for index in AuditEvent._meta.indexes}
    assert {"audit_first_acknowledged", "audit_first_produced", "audit_first_preserving"} <= names


def test_a_period_without_requests():
    figures = reports.transparency_figures(reports.period_of("year", year=2030))
    assert figures["total"]["received"] == 0 and figures["country"] == [] and figures["data_category"] == []
    assert figures["total"]["dsa_median_hours_to_effect"] is None


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
    assert shown["total"]["received"] == 13 and shown["total"]["some_data_produced"] == 4
    assert shown["total"]["not_executed"] == "1–2" and shown["total"]["dsa_orders"] == 3
    country = {r["country"]: r for r in shown["country"]}
    assert country["FR"]["received"] == 8 and country["DE"]["received"] == 5
    assert country["DE"]["released_without_data"] == "1–2" and country["FR"]["released_without_data"] == 0
    # Medians of fewer orders than the threshold are left out; the total's three orders are shown.
    assert country["FR"]["dsa_orders"] == "1–2" and country["FR"]["dsa_median_hours_to_effect"] is None
    assert shown["total"]["dsa_median_hours_to_acknowledge"] == 2.0
    assert shown["total"]["dsa_median_hours_to_effect"] == 20.0
    assert '<td data-column="dsa_median_hours_to_effect">20.0</td>' in html
    assert "DSA median hours to give effect" in html and "1–2" in html
    assert 'data-reason="not_issued_per_art_4"' in html


def test_the_exact_view_and_the_downloads(world, reviewer, settings):
    settings.TRANSPARENCY_SMALL_COUNT = 10
    client = login(reviewer)
    exact = client.get(PAGE + Q2 + "&view=exact")
    assert exact.context["figures"]["total"]["some_data_produced"] == 4
    html = exact.content.decode()
    fr_medians = re.search(r'<th scope="row">FR</th>(.*?)</tr>', html).group(1)
    assert '<td data-column="dsa_median_hours_to_acknowledge">2.0</td>' in fr_medians
    assert '<td data-column="dsa_median_hours_to_effect">20.0</td>' in fr_medians
    data = json.loads(client.get(PAGE + Q2 + "&view=exact&format=json").content)
    assert data["total"]["received"] == 13 and data["period"]["label"] == "2026 Q2"
    assert data["total"]["dsa_median_hours_to_effect"] == 20.0
    published = client.get(PAGE + Q2 + "&format=json")
    assert published["Content-Disposition"].startswith('attachment; filename="transparency-2026-04-01-2026-06-30.json"')
    public = json.loads(published.content)
    assert public["total"]["some_data_produced"] == "1–9" and public["small_count_threshold"] == 10
    assert public["total"]["dsa_median_hours_to_effect"] is None  # three orders < 10
    rows = list(csv.DictReader(io.StringIO(client.get(PAGE + Q2 + "&view=exact&format=csv").content.decode())))
    total = next(r for r in rows if r["breakdown"] == "total")
    assert total["received"] == "13" and total["accounts_specified"] == "16"
    assert total["dsa_median_hours_to_acknowledge"] == "2.0" and total["dsa_median_hours_to_effect"] == "20.0"
    assert total["not_executed__incomplete"] == "1"
    assert {(r["breakdown"], r["key"]) for r in rows} >= {("country", "FR"), ("instrument", "epoc_pr"),
                                                          ("data_category", "traffic"),
                                                          ("country_instrument", "FR/dsa_removal_order")}
    fr_dsa = next(r for r in rows if r["key"] == "FR/dsa_removal_order")
    assert fr_dsa["dsa_median_hours_to_effect"] == "20.0"


def test_the_command_the_page_and_the_downloads_give_the_same_figures(world, reviewer, settings):
    """One function counts them all: the command's JSON is the page's exact JSON download, its
    --publication JSON the published one, its CSV the page's CSV."""
    from django.core.management import call_command

    settings.TRANSPARENCY_SMALL_COUNT = 3
    client = login(reviewer)

    def command(*extra: str) -> str:
        out = io.StringIO()
        call_command("transparency_report", "--from", "2026-04-01", "--to", "2026-07-01", *extra, stdout=out)
        return out.getvalue()

    def without_label(document: dict) -> dict:
        return {**document, "period": {k: v for k, v in document["period"].items() if k != "label"}}

    exact = json.loads(client.get(PAGE + Q2 + "&view=exact&format=json").content)
    assert without_label(json.loads(command("--format", "json"))) == without_label(exact)
    published = json.loads(client.get(PAGE + Q2 + "&format=json").content)
    assert without_label(json.loads(command("--format", "json", "--publication"))) == without_label(published)
    page_csv = client.get(PAGE + Q2 + "&view=exact&format=csv").content.decode()
    assert [line.split(",", 1)[1] for line in command("--format", "csv").splitlines()] == [
        line.split(",", 1)[1] for line in page_csv.splitlines()]


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
