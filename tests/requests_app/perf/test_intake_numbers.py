"""The intake draws the request's reference and its first audit event's global number in one
statement (``references.next_reference_and_audit_number``; issue 9 item 5, stop 33): one
sequence round trip per submission instead of two, the trail as exact as before."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit import trail as audit
from audit.models import AuditEvent
from requests_app.models import LegalRequest
from tests.conftest import client_for, epoc_body

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL sequences"),
]


def draws(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if "nextval" in q["sql"]]


def test_a_submission_draws_its_reference_and_its_audit_number_in_one_statement(officer, no_broker):
    api = client_for(officer)
    with CaptureQueriesContext(connection) as web:
        response = api.post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201, response.content
    [draw] = draws(web)
    assert "requests_app_reference_seq" in draw and audit.SEQUENCE in draw
    request = LegalRequest.objects.get(reference=response.json()["reference"])
    [event] = AuditEvent.objects.filter(request_id=request.pk, action="request.submitted")
    assert event.chain_seq == 1
    # The number drawn with the reference is the event's: the next draw is the one after it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [audit.SEQUENCE])
        assert cursor.fetchone()[0] == event.seq + 1
    assert audit.verify()[0] is None


def test_numbers_of_submissions_increase_and_the_trail_verifies(officer, no_broker):
    api = client_for(officer)
    references = [api.post("/api/v1/requests/", epoc_body(), format="json").json()["reference"] for _ in range(3)]
    events = list(AuditEvent.objects.filter(action="request.submitted").order_by("seq"))
    assert [e.request_id for e in events] == [LegalRequest.objects.get(reference=r).pk for r in references]
    assert audit.verify()[0] is None


def test_numbers_the_trail_cannot_use_are_refused(officer, authority):
    """A caller's drawn number is used or the write fails: never silently dropped."""
    request = LegalRequest.objects.create(reference="LRP-2026-990101", authority=authority, submitted_by=officer,
                                          country="FR", instrument="epoc", lifecycle="production",
                                          receipt_hash="0" * 64)
    for kwargs in ({"new_chain": True, "numbers": []}, {"new_chain": True, "numbers": [1, 2]},
                   {"new_chain": False, "numbers": [7]}):
        with pytest.raises(ValueError, match="numbers"), transaction.atomic():
            audit.record("request.submitted", actor=officer, request=request, **kwargs)
    with pytest.raises(ValueError, match="numbers"), transaction.atomic(), audit.batch():
        audit.record("request.submitted", actor=officer, request=request, new_chain=True, numbers=[7])
    assert not AuditEvent.objects.filter(request_id=request.pk).exists()
    with transaction.atomic(), CaptureQueriesContext(connection) as written:
        event = audit.record("request.submitted", actor=officer, request=request, new_chain=True)
    assert len(draws(written)) == 1, "without numbers the trail draws its own"
    assert event.seq and audit.verify()[0] is None
