"""The API's date-times are UTC, read and written without a look-up of the active zone per value
(``serializers.APIDateTimeField``; issue 9 item 5, stop 34): the same answers, whatever zone a
thread has active, and DRF's per-value read of the thread's zone gone from the request path."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from requests_app.api import serializers
from requests_app.models import LegalRequest
from tests.conftest import epoc_body

from .helpers import API

pytestmark = pytest.mark.django_db


def test_a_submission_reads_and_writes_its_times_without_asking_for_the_active_zone(api, monkeypatch):
    asked: list[str] = []
    real = timezone.get_current_timezone

    def counting():  # type: ignore[no-untyped-def]
        caller = inspect.stack()[1]
        if "rest_framework" in caller.filename:
            asked.append(caller.function)
        return real()

    monkeypatch.setattr(timezone, "get_current_timezone", counting)
    created = api.post(API, epoc_body(), format="json")
    assert created.status_code == 201, created.content
    shown = api.get(f"{API}{created.json()['reference']}/")
    assert shown.status_code == 200
    assert asked == []
    request = LegalRequest.objects.get(reference=created.json()["reference"])
    assert shown.json()["received_at"] == request.received_at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_the_api_answers_in_utc_whatever_zone_is_active(api):
    created = api.post(API, epoc_body(), format="json")
    assert created.status_code == 201
    with timezone.override("Europe/Paris"):
        shown = api.get(f"{API}{created.json()['reference']}/").json()
        field = serializers.APIDateTimeField()
        assert field.to_representation(datetime(2026, 7, 1, 10, 0, tzinfo=UTC)) == "2026-07-01T10:00:00Z"
        assert field.to_internal_value("2026-07-01T12:00:00+02:00") == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert shown["received_at"].endswith("Z")
    body = epoc_body()
    body["data_from"] = "2026-07-01T12:00:00+02:00"
    with timezone.override("Asia/Tokyo"):
        stored = api.post(API, body, format="json")
    assert stored.status_code == 201, stored.content
    assert LegalRequest.objects.get(reference=stored.json()["reference"]).data_from == datetime(
        2026, 7, 1, 10, 0, tzinfo=UTC)
