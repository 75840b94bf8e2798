"""Deadlines run from the moment the order reached the provider (issue 11 item 4): for a request
the legal team registers, the stated receipt time, never the time of registration or of
validation. The engine takes the receipt instant as its input: the same facts evaluated at two
different moments give the same deadlines."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from requests_app.codec import facts_from_request
from requests_app.models import LegalRequest, Timer
from requests_app.provider import provider_config
from requests_app.rules import evaluate
from requests_app.services.validation import request_validate

from .test_registration import REGISTER, registration

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_instant")]


def test_every_deadline_runs_from_the_stated_receipt(as_reviewer, authority, officer):
    received = (timezone.now() - timedelta(days=3, hours=5)).replace(microsecond=0)
    response = as_reviewer.post(REGISTER, registration(
        authority, received=received, data_categories=["traffic"], enforcing_authority_notified="on",
        validation_authority_type="investigating_judge"))
    assert response.status_code == 302, response.content.decode()[:3000]
    request = LegalRequest.objects.get()
    assert request.received_at == received
    # Validated a day after the registration: still counted from the receipt.
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        request_validate(request_id=request.pk)
    request.refresh_from_db()
    deadlines = request.decision["deadlines"]
    from_receipt = [d for d in deadlines if d["explanation_params"].get("start") == "receipt"]
    assert from_receipt, deadlines
    assert {d["explanation_params"]["start_at"] for d in from_receipt} == {received.isoformat()}
    window = next(d for d in deadlines if d["kind"] == "ea_window_end")
    assert request.hold_until.isoformat() == window["due_at"]
    assert Timer.objects.get(request=request, kind="ea_window_end").due_at == request.hold_until
    assert request.due_at is not None and request.due_at < received + timedelta(days=12)

    # The engine is pure in time: evaluated now or a week later, from the same receipt, the same.
    facts = facts_from_request(request)
    assert facts.received_at == received
    first = [(d.kind, d.due_at) for d in evaluate(facts, provider_config()).deadlines]
    with time_machine.travel(timezone.now() + timedelta(days=7), tick=False):
        later = [(d.kind, d.due_at) for d in evaluate(facts, provider_config()).deadlines]
    assert first == later
    assert [(d["kind"], d["due_at"]) for d in deadlines] == [(k, t.isoformat()) for k, t in first]
