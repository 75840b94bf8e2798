"""A deadline's explanation keeps its legal anchor in the zone the rule counts in and adds the
same instant in the reader's zone where it differs (issue 11 item 5, issue 13 item 1): on the
officer's page, in the live check and on the admin's request page; built from the deadline's
structured parts, translated; the API unchanged."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from requests_app.deadline_texts import deadline_text
from tests.requests_app.review.conftest import staff

pytestmark = pytest.mark.django_db
BACKEND = "django.contrib.auth.backends.ModelBackend"
BRUSSELS = ZoneInfo("Europe/Brussels")


def reg_1182_deadline() -> tuple[dict, datetime]:
    """A 10-day Reg. 1182/71 period from a receipt today: ends at the end of its last day,
    Brussels time (midnight Brussels, shown as 23:59 of the last day)."""
    start = timezone.now()
    last_day = start.astimezone(BRUSSELS).date() + timedelta(days=10)
    due = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=BRUSSELS).astimezone(ZoneInfo("UTC"))
    params = {"rule": "later_of_calendar_and_reg_1182_71", "due_at": due.isoformat(), "start": "receipt",
              "start_at": start.isoformat(), "days": 10, "last_day": last_day.isoformat(),
              "latest_zone": "Europe/Brussels", "zones": "Europe/Brussels", "countries": "BE"}
    deadline = {"kind": "production", "due_at": due.isoformat(), "time_zone": "Europe/Brussels",
                "explanation": "(English kept for the API)", "rule_applied": params["rule"],
                "explanation_code": "transmit", "explanation_params": params, "explanation_prefix": ""}
    return deadline, due


def day(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %Y}"


def test_the_explanation_adds_the_readers_equivalent_of_the_legal_end():
    deadline, due = reg_1182_deadline()
    last_minute = due - timedelta(minutes=1)
    with translation.override("en"):
        text = deadline_text(deadline, "Europe/Lisbon")
    brussels = f"by {day(last_minute, 'Europe/Brussels')} 23:59 Brussels time"
    in_lisbon = last_minute.astimezone(ZoneInfo("Europe/Lisbon"))
    lisbon = f"{day(last_minute, 'Europe/Lisbon')} {in_lisbon:%H:%M} Lisbon time"
    assert f"{brussels} (= {lisbon})" in text
    assert "22:59 Lisbon time" in text  # Lisbon is always an hour behind Brussels
    assert "10 days after receipt on" in text and "Reg. 1182/71" in text  # the legal anchor stays


def test_no_equivalent_for_a_reader_in_the_rules_zone_or_without_one():
    deadline, _ = reg_1182_deadline()
    with translation.override("en"):
        assert "(= " not in deadline_text(deadline, "Europe/Brussels")
        assert "(= " not in deadline_text(deadline)


def test_a_reader_whose_clock_reads_alike_is_told_so_in_one_word():
    deadline, _ = reg_1182_deadline()
    with translation.override("en"):
        text = deadline_text(deadline, "Europe/Paris")  # Paris always reads as Brussels
    assert "23:59 Brussels time (= Paris time)" in text


def test_the_readers_equivalent_is_translated():
    deadline, _ = reg_1182_deadline()
    with translation.override("fr"):
        french = deadline_text(deadline, "Europe/Lisbon")
    with translation.override("de"):
        german = deadline_text(deadline, "Europe/Lisbon")
    assert "heure de Bruxelles (soit " in french and "22:59 heure de Lisbonne)" in french
    assert "(d. h. " in german and "22:59" in german and "Lissabon" in german


def test_an_hour_period_gives_both_instants_in_the_readers_zone():
    start = timezone.now()
    due = start + timedelta(hours=8)
    params = {"rule": "hours", "due_at": due.isoformat(), "start": "receipt", "start_at": start.isoformat(),
              "hours": 8}
    deadline = {"kind": "emergency", "due_at": due.isoformat(), "time_zone": "Europe/Brussels",
                "explanation": "", "rule_applied": "hours", "explanation_code": "emergency_transmit",
                "explanation_params": params}
    with translation.override("en"):
        text = deadline_text(deadline, "America/New_York")
    new_york = due.astimezone(ZoneInfo("America/New_York"))
    assert f"{day(due, 'America/New_York')} {new_york:%H:%M} New York time)" in text
    assert text.count("New York time") == 2  # the due and the receipt


def test_the_officers_page_shows_the_equivalent_in_their_zone(make_request, officer):
    User.objects.filter(pk=officer.pk).update(time_zone="Europe/Lisbon")
    legal_request = make_request()
    client = Client()
    client.force_login(officer)
    body = client.get(reverse("portal:request_detail", args=[legal_request.reference])).content.decode()
    explanation = body.split('id="deadline-explanation">', 1)[1].split("</dd>", 1)[0]
    assert "Brussels time (= " in explanation and "Lisbon time)" in explanation
    table = body.split('id="deadlines"', 1)[1].split("</table>", 1)[0]
    assert "Lisbon time)" in table


def test_an_officer_in_brussels_reads_no_equivalent(make_request, officer):
    User.objects.filter(pk=officer.pk).update(time_zone="Europe/Brussels")
    legal_request = make_request()
    client = Client()
    client.force_login(officer)
    body = client.get(reverse("portal:request_detail", args=[legal_request.reference])).content.decode()
    explanation = body.split('id="deadline-explanation">', 1)[1].split("</dd>", 1)[0]
    assert "Brussels time" in explanation and "(= " not in explanation


def test_the_admins_request_page_explains_deadlines_in_the_readers_zone(make_request):
    from requests_app.permissions import REVIEWER

    legal_request = make_request()
    reader = staff("lisbon-reviewer@provider.example", REVIEWER)
    User.objects.filter(pk=reader.pk).update(time_zone="Europe/Lisbon")
    client = Client()
    client.force_login(reader, backend=BACKEND)
    body = client.get(reverse("admin:requests_app_legalrequest_change", args=[legal_request.pk])).content.decode()
    rows = body.split("<caption>Deadlines</caption>", 1)[1].split("</table>", 1)[0]
    assert "(Europe/Lisbon)</time>" in rows  # the due in the reader's zone, UTC on hover
    assert "Brussels time (= " in rows and "Lisbon time)" in rows
    assert legal_request.decision["deadlines"][0]["due_at"] not in rows  # no raw ISO value


def test_the_admins_deadlines_fieldset_explains_the_deadline_in_the_readers_zone(make_request):
    """The change form's "Deadlines" fieldset showed the stored English text (Brussels only)."""
    from requests_app.permissions import REVIEWER

    legal_request = make_request()
    assert legal_request.deadline_explanation  # the stored text the API gives
    reader = staff("lisbon-fieldset@provider.example", REVIEWER)
    User.objects.filter(pk=reader.pk).update(time_zone="Europe/Lisbon")
    client = Client()
    client.force_login(reader, backend=BACKEND)
    body = client.get(reverse("admin:requests_app_legalrequest_change", args=[legal_request.pk])).content.decode()
    fieldset = body.split("field-deadline_explanation_text", 1)[1].split("field-warn_at", 1)[0]
    assert "Brussels time (= " in fieldset and "Lisbon time)" in fieldset


def test_the_api_keeps_the_english_explanation_and_utc(make_request, officer):
    from accounts.services import token_issue

    User.objects.filter(pk=officer.pk).update(time_zone="Europe/Lisbon")
    legal_request = make_request()
    _token, secret = token_issue(actor=officer, user=officer, name="case system")
    data = Client().get(f"/api/v1/requests/{legal_request.reference}/", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert "(= " not in data["deadline_explanation"] and "Lisbon" not in data["deadline_explanation"]
    assert data["deadline_explanation"] == legal_request.deadline_explanation


def test_an_instant_in_a_findings_text_is_also_in_the_readers_zone():
    from requests_app.finding_texts import finding_text

    received = timezone.now().replace(minute=0, second=0, microsecond=0)
    finding = {"code": "RANGE_TRUNCATED", "message": "(English)",
               "message_params": {"received_at": received.isoformat()}}
    lisbon = received.astimezone(ZoneInfo("Europe/Lisbon"))
    brussels = received.astimezone(BRUSSELS)
    with translation.override("en"):
        text = finding_text(finding, "Europe/Lisbon")
        assert "(= " not in finding_text(finding, "Europe/Brussels")
    assert f"{brussels:%H:%M} Brussels time (= {day(received, 'Europe/Lisbon')} {lisbon:%H:%M} Lisbon time)" in text
