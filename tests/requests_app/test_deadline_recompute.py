"""Changing the provider's configuration recomputes the deadlines of open requests."""

import pytest

from audit.models import AuditEvent
from requests_app.api.serializers import RequestCreateSerializer
from requests_app.models import LegalRequest, Timer
from requests_app.services.deadlines import recompute_stale
from requests_app.services.submission import request_submit
from requests_app.services.validation import request_validate
from tests.conftest import epoc_body

pytestmark = pytest.mark.django_db


def submitted_preservation(officer):
    serializer = RequestCreateSerializer(data=epoc_body(instrument="epoc_pr", data_categories=["subscriber"]))
    serializer.is_valid(raise_exception=True)
    request, _ = request_submit(actor=officer, data=serializer.validated_data)
    request_validate(request_id=request.pk)
    request.refresh_from_db()
    assert request.status == "preserving"
    return request


def test_a_config_change_moves_the_open_deadlines_and_is_audited(officer, settings):
    request = submitted_preservation(officer)
    before = request.due_at
    assert recompute_stale() == 0  # nothing changed yet

    # Count preservation expiry in plain calendar days instead of the later-of rule.
    settings.PROVIDER_RULES = {**settings.PROVIDER_RULES,
                               "DAY_RULES": {"eevidence_preservation": {"mode": "calendar_days"}}}
    assert recompute_stale() == 1
    request.refresh_from_db()
    assert request.due_at != before
    assert request.due_at < before  # calendar end never later than the 1182/71 end
    assert "calendar" in request.deadline_explanation.lower()
    open_expiry = Timer.objects.filter(request=request, kind="preservation_expiry", fired_at__isnull=True,
                                       cancelled_at__isnull=True)
    assert [t.due_at for t in open_expiry] == [request.due_at]
    assert AuditEvent.objects.filter(request_id=request.pk, action="request.deadlines_recomputed").count() == 1
    assert recompute_stale() == 0  # idempotent


def test_closed_requests_are_left_alone(officer, settings):
    request = submitted_preservation(officer)
    LegalRequest.objects.filter(pk=request.pk).update(status="released")
    settings.PROVIDER_RULES = {**settings.PROVIDER_RULES, "ESTABLISHMENT_COUNTRY": "IE"}
    assert recompute_stale() == 0
