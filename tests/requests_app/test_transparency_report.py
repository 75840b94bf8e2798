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
    rows = {(r["country"], r["instrument"]): r for r in json.loads(report())["rows"]}
    french = rows[("FR", "epoc")]
    assert french["received"] == 3
    assert french["accounts_specified"] == 9  # three targets each
    assert french["refused_or_not_executed"] == 1
    assert french["withdrawn"] == 1
    assert french["median_hours_to_acknowledge"] is not None
    assert rows[("DE", "epoc_pr")]["received"] == 1


def test_csv_has_the_documented_columns(officer):
    submit(officer)
    reader = csv.DictReader(io.StringIO(report("csv")))
    assert reader.fieldnames[:3] == ["country", "instrument", "received"]
    assert [row["received"] for row in reader] == ["1"]


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
    assert [r["received"] for r in json.loads(out.getvalue())["rows"]] == [1]
    out = io.StringIO()
    call_command("transparency_report", "--from", "2026-06-30", "--to", "2026-07-01", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["rows"] == []
