"""manage.py transparency_report: counts per country and instrument, medians from the audit trail."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from requests_app.api.serializers import RequestCreateSerializer
from requests_app.services.submission import request_submit, request_withdraw
from requests_app.services.validation import request_validate
from tests.conftest import epoc_body
from tests.four_eyes import approve_annex

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_instant")]  # dates named in the expectations


def submit(actor, **overrides):
    serializer = RequestCreateSerializer(data=epoc_body(**overrides))
    serializer.is_valid(raise_exception=True)
    return request_submit(actor=actor, data=serializer.validated_data)[0]


def report(fmt="json"):
    today = timezone.now().date()
    out = io.StringIO()
    call_command("transparency_report", "--from", str(today - timedelta(days=1)), "--to",
                 str(today + timedelta(days=1)), "--format", fmt, stdout=out)
    return out.getvalue()


def test_counts_per_country_and_instrument(officer, other_officer, reviewer, approver):
    from requests_app.services import review

    accepted = submit(officer)
    request_validate(request_id=accepted.pk)
    refused = submit(officer, data_categories=["traffic"])  # prosecutor validation: Art. 4(2)
    request_validate(request_id=refused.pk)
    # The engine proposes the refusal; a person of the legal team decides it.
    approve_annex(approver, review.not_executed(actor=reviewer, request=refused,
                                                reasons=[{"identifier": "", "reasons": ["not_issued_per_art_4"]}]))
    request_withdraw(actor=officer, request=submit(officer))
    submit(other_officer, instrument="epoc_pr")
    document = json.loads(report())
    rows = {(r["country"], r["instrument"]): r for r in document["country_instrument"]}
    french = rows[("FR", "epoc")]
    assert french["received"] == 3
    assert french["accounts_specified"] == 9  # three targets each
    assert french["not_executed"] == 1
    assert french["not_executed__not_issued_per_art_4"] == 1  # the reason the approver sent
    assert french["withdrawn"] == 1
    assert french["open"] == 1
    assert rows[("DE", "epoc_pr")]["received"] == 1
    assert {r["country"]: r["received"] for r in document["country"]} == {"FR": 3, "DE": 1}
    assert {r["data_category"] for r in document["data_category"]} >= {"subscriber", "traffic"}


def test_csv_has_the_documented_columns(officer):
    submit(officer)
    reader = csv.DictReader(io.StringIO(report("csv")))
    assert reader.fieldnames[:4] == ["period", "breakdown", "key", "received"]
    assert {"dsa_median_hours_to_acknowledge", "dsa_median_hours_to_effect"} <= set(reader.fieldnames)
    rows = {(row["breakdown"], row["key"]): row["received"] for row in reader}
    assert rows[("total", "")] == "1" and rows[("country", "FR")] == "1"
    assert rows[("country_instrument", "FR/epoc")] == "1"


def test_bad_dates_are_refused():
    with pytest.raises(CommandError):
        call_command("transparency_report", "--from", "2026-13-01", "--to", "2026-12-01")


def test_days_start_at_midnight_in_the_providers_zone(officer):
    """The command and the admin's page agree: 1 July 00:30 in Brussels is 30 June 22:30 UTC."""
    from datetime import UTC, datetime

    import time_machine

    with time_machine.travel(datetime(2026, 6, 30, 22, 30, tzinfo=UTC), tick=False):
        submit(officer)
    out = io.StringIO()
    call_command("transparency_report", "--from", "2026-07-01", "--to", "2026-07-02", "--format", "json", stdout=out)
    assert [r["received"] for r in json.loads(out.getvalue())["country"]] == [1]
    out = io.StringIO()
    call_command("transparency_report", "--from", "2026-06-30", "--to", "2026-07-01", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["country"] == []


def test_the_command_counts_in_the_database_whatever_the_number_of_requests(officer):
    """The command aggregates in SQL: three aggregating statements (counts, DSA medians by
    percentile_cont, Annex III reasons); the row-based version loaded every request and its
    audit events into Python."""
    from tests.requests_app.admin.test_transparency_page import aggregating_statements

    for _ in range(10):
        submit(officer)
    statements = aggregating_statements(report)
    assert len(statements) == 3
    assert all("GROUP BY" in sql for sql in statements) and "percentile_cont(0.5)" in statements[1]


def test_dsa_medians_in_the_command(officer, authority):
    """Median hours from receipt to acknowledgement and to effect, for DSA orders, from the audit trail."""
    from datetime import UTC, datetime

    import time_machine

    from audit import trail as audit
    from requests_app.models import LegalRequest

    received = datetime(2026, 9, 14, 8, tzinfo=UTC)
    for n, (ack, effect) in enumerate(((1, 5), (2, 7), (9, 30))):
        request = LegalRequest.objects.create(
            reference=f"LRP-2026-9{n:05d}", authority=authority, submitted_by=officer, country="FR",
            instrument="dsa_removal_order", lifecycle="dsa", status="produced", data_categories=[],
            case_reference="DSA-1", receipt_hash="0" * 64, received_at=received)
        for hours, state in ((ack, "in_review"), (effect, "produced")):
            with time_machine.travel(received + timedelta(hours=hours), tick=False):
                audit.record("request.status_changed", request=request, authority_id=authority.pk, data={"to": state})
    document = json.loads(report())
    assert document["total"]["dsa_orders"] == 3
    assert (document["total"]["dsa_median_hours_to_acknowledge"], document["total"]["dsa_median_hours_to_effect"]) == (
        2.0, 7.0)
    out = io.StringIO()
    call_command("transparency_report", "--from", "2026-09-14", "--to", "2026-09-16", "--format", "json",
                 "--publication", "--threshold", "5", stdout=out)
    published = json.loads(out.getvalue())
    assert published["total"]["dsa_orders"] == "1–4" and published["total"]["dsa_median_hours_to_effect"] is None


def test_a_bad_threshold_is_refused():
    with pytest.raises(CommandError):
        call_command("transparency_report", "--from", "2026-01-01", "--to", "2026-02-01", "--publication",
                     "--threshold", "0")
