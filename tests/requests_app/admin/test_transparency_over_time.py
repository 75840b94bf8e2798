"""The transparency page's chart of requests over time by issuing country (issue 13 item 6),
on the hand-counted fixture of test_transparency_page, and the page in French and German."""

from __future__ import annotations

import re
from datetime import date

import pytest

from requests_app import reports

from .conftest import login
from .test_transparency_page import PAGE, Q2, utc, world  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def test_requests_over_time_by_country_counted_by_hand(world):  # noqa: F811
    """Q2 2026 per month in Brussels: FR has 1 request on 1 April 00:00 (31 March 22:00 UTC), six
    in May and one on 30 June 23:59; DE five in May. 31 March 23:59:59 and 1 July 00:00 are out."""
    series = reports.requests_over_time(reports.period_of("quarter", year=2026, number=2))
    assert series.unit == "month"
    assert series.buckets == (date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1))
    assert series.counts == {"FR": (1, 6, 1), "DE": (0, 5, 0)}
    assert list(series.counts) == ["FR", "DE"]  # the most requests first


def test_a_short_period_is_drawn_per_day(world):  # noqa: F811
    series = reports.requests_over_time(reports.period_of("range", first=date(2026, 5, 3), last=date(2026, 5, 6)))
    assert series.unit == "day" and series.buckets[0] == date(2026, 5, 3) and len(series.buckets) == 4
    # 4 May: five FR requests at 09:00 UTC and three DE; 5 May one FR (dsa_b); 6 May one DE (dsa_c)
    assert series.counts == {"FR": (0, 5, 1, 0), "DE": (0, 3, 0, 1)}
    assert utc(2026, 5, 4, 9)  # the fixture's day


def test_the_page_draws_one_line_per_country_with_the_series(world, reviewer, settings):  # noqa: F811
    settings.TRANSPARENCY_SMALL_COUNT = 3
    html = login(reviewer).get(PAGE + Q2).content.decode()
    charts = re.findall(r"<svg[^>]*>.*?</svg>", html, re.S)
    chart = next(c for c in charts if "Requests received over time" in c)
    assert re.findall(r'<polyline class="lrp-series" data-country="([A-Z]+)"', chart) == ["FR", "DE"]
    fr = re.findall(r"<title>FR (\d{4}-\d\d-\d\d): ([^<]+)</title>", chart)
    de = re.findall(r"<title>DE (\d{4}-\d\d-\d\d): ([^<]+)</title>", chart)
    # For publication: 1 and 2 are under the threshold of 3, shown as the band.
    assert fr == [("2026-04-01", "1–2"), ("2026-05-01", "6"), ("2026-06-01", "1–2")]
    assert de == [("2026-04-01", "0"), ("2026-05-01", "5"), ("2026-06-01", "0")]
    assert "style=" not in chart and "<script" not in chart
    exact = login(reviewer).get(PAGE + Q2 + "&view=exact").content.decode()
    assert "<title>FR 2026-04-01: 1</title>" in exact


@pytest.mark.parametrize(("language", "words"), [
    ("fr", ["Rapport de transparence", "Télécharger le CSV", "Par pays d’émission", "reçues"]),
    ("de", ["Transparenzbericht", "CSV herunterladen", "Nach ausstellendem Staat", "eingegangen"]),
])
def test_the_page_in_french_and_german(world, reviewer, language, words):  # noqa: F811
    reviewer.language = language  # the person's own language (accounts.middleware)
    reviewer.save(update_fields=["language"])
    client = login(reviewer)
    response = client.get(PAGE + Q2)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'lang="{language}"' in html
    for word in words:
        assert word in html, word
    assert "Download CSV" not in html and "By issuing country" not in html
    assert "Requests received over time" not in html
