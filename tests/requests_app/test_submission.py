"""request_submit: one transaction writes the request (in received: its validation's queue entry),
targets and audit event; the validation drain is rung after the commit."""

import pytest
from django.db import IntegrityError

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.models import LegalRequest, Target
from requests_app.services.submission import request_submit
from tests.conftest import epoc_body

pytestmark = pytest.mark.django_db


def validated(**overrides):
    from requests_app.api.serializers import RequestCreateSerializer

    serializer = RequestCreateSerializer(data=epoc_body(**overrides))
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def test_submit_writes_request_targets_audit_and_rings_after_commit(officer, django_capture_on_commit_callbacks,
                                                                    monkeypatch):
    from requests_app import validation_queue

    rung = []
    monkeypatch.setattr(validation_queue, "ring", rung.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request, created = request_submit(actor=officer, data=validated())
    assert not rung, "nothing is rung before the commit"
    for callback in callbacks:
        callback()
    assert rung == [request.pk]
    request.refresh_from_db()
    assert created
    assert request.status == "received"
    assert request.reference.startswith("LRP-") and len(request.reference) == len("LRP-2026-000001")
    assert request.authority_id == officer.authority_id
    assert request.lifecycle == "production"
    assert list(request.data_categories) == ["subscriber"]
    assert Target.objects.filter(request=request).count() == 3
    event = AuditEvent.objects.get(request_id=request.pk, action="request.submitted")
    assert event.actor_id == officer.pk and event.data["to"] == "received"
    assert not OutboxMessage.objects.filter(request=request).exists(), "the row in received is the queue entry"
    assert len(request.receipt_hash) == 64


def test_references_are_unique_and_increasing(officer):
    refs = [request_submit(actor=officer, data=validated())[0].reference for _ in range(3)]
    numbers = [int(r.rsplit("-", 1)[1]) for r in refs]
    assert numbers == sorted(numbers) and len(set(refs)) == 3


def test_failure_inside_the_transaction_leaves_nothing(officer, monkeypatch):
    from audit import trail as audit

    def broken(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        request_submit(actor=officer, data=validated())
    assert LegalRequest.objects.count() == 0
    assert Target.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_idempotency_key_replays_the_first_request(officer):
    data = validated()
    first, created = request_submit(actor=officer, data=data, idempotency_key="k-1")
    again, created_again = request_submit(actor=officer, data=dict(data), idempotency_key="k-1")
    assert created and not created_again
    assert again.pk == first.pk
    assert LegalRequest.objects.count() == 1


def test_idempotency_key_with_another_body_is_refused(officer):
    from requests_app.services.errors import IdempotencyKeyReused

    data = validated()
    request_submit(actor=officer, data=data, idempotency_key="k-2")
    with pytest.raises(IdempotencyKeyReused):
        request_submit(actor=officer, data={**data, "case_reference": "OTHER"}, idempotency_key="k-2")
    assert LegalRequest.objects.count() == 1


def test_linked_reference_resolves_only_within_the_same_authority(officer, other_officer):
    preservation, _ = request_submit(actor=other_officer, data=validated(instrument="epoc_pr"))
    extension, _ = request_submit(
        actor=officer, data=validated(instrument="preservation_extension", linked_reference=preservation.reference)
    )
    assert extension.linked_request is None


@pytest.mark.parametrize(
    "field,value",
    [("status", "bogus"), ("instrument", "bogus"), ("data_categories", "subscriber,bogus"),
     ("max_sentence_months", -1), ("sentence_months", -4), ("reference", "")],
)
def test_database_refuses_invalid_values(officer, field, value):
    request, _ = request_submit(actor=officer, data=validated())
    with pytest.raises(IntegrityError):
        LegalRequest.objects.filter(pk=request.pk).update(**{field: value})


def test_database_refuses_reversed_time_range(officer):
    request, _ = request_submit(actor=officer, data=validated())
    with pytest.raises(IntegrityError):
        LegalRequest.objects.filter(pk=request.pk).update(data_to=request.data_from.replace(year=2000))
