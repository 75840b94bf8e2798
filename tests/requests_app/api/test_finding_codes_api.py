"""The API keeps the English ``message`` (public contract) and adds what a client needs to
write it in its own language: ``message_params`` per finding, ``explanation_code`` /
``explanation_params`` per deadline."""

from __future__ import annotations

import pytest
from django.utils import translation

from requests_app.deadline_texts import deadline_text
from requests_app.finding_texts import finding_text
from requests_app.services.validation import request_validate
from tests.conftest import epoc_body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_instant")]  # dates named in the expectations
API = "/api/v1/requests/"


def test_stored_decision_carries_codes_and_parameters(api, no_publish):  # type: ignore[no-untyped-def]
    created = api.post(API, epoc_body(data_categories=["content"]), format="json")
    assert created.status_code == 201, created.json()
    reference = created.json()["reference"]
    from requests_app.models import LegalRequest

    request_validate(request_id=LegalRequest.objects.get(reference=reference).pk)
    decision = api.get(f"{API}{reference}/").json()["decision"]
    refusal = next(f for f in decision["findings"] if f["code"] == "EE_VALIDATOR_NOT_COMPETENT")
    assert refusal["message"].startswith("An order for content data cannot be validated by a public prosecutor")
    assert refusal["message_params"]["validators_code"] == "judicial"
    assert refusal["message_params"]["category"] == "content"
    with translation.override("de"):
        assert "Inhaltsdaten" in finding_text(refusal)
    deadline = decision["deadlines"][0]
    assert deadline["explanation"]  # English, as before
    assert deadline["explanation_code"] and deadline["explanation_params"]["rule"] == deadline["rule_applied"]
    with translation.override("fr"):
        assert "septembre 2026" in deadline_text(deadline)
