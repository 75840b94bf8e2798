"""The validation task reads the wide request row once (issue 9 item 5), and still decides on the
row as it is when another transaction wrote it between the claim and the decision.

The decision's transaction locks the row again with ``workflow.relock``: the row's ``xmin`` tells
whether any transaction but the claim's wrote it since; only then is it read afresh. At 16e12a1
the decision read all 56 columns again (and joined every foreign key: ``select_related()``).
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from requests_app import tasks
from requests_app.models import LegalRequest
from requests_app.services import validation
from requests_app.services.review import review_assign
from requests_app.states import Status
from tests.conftest import client_for, epoc_body

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the row version (xmin) of PostgreSQL"),
]

# A statement that reads the request row itself (not a narrow lock, not a join from another table).
ROW_READ = 'SELECT "requests_app_legalrequest"."id", "requests_app_legalrequest"."reference"'


def submitted(officer, no_broker) -> LegalRequest:
    response = client_for(officer).post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201, response.content
    return LegalRequest.objects.get(reference=response.json()["reference"])


def test_the_validation_task_reads_the_request_row_once(officer, no_broker):
    request = submitted(officer, no_broker)
    with CaptureQueriesContext(connection) as worker:
        tasks.validate_request.run(request.pk)
    reads = [q["sql"] for q in worker.captured_queries if q["sql"].startswith(ROW_READ)]
    assert len(reads) == 1, "\n".join(r[:200] for r in reads)
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW and request.validation_attempts == 1
    assert request.decision["proposal"] and request.due_at is not None


@pytest.fixture
def durable(monkeypatch) -> None:
    """The durable path (claim, then decision in a second transaction), which a redelivery, a
    retry or a re-validation takes: only there can another transaction write between the two.
    The first delivery holds the row lock from claim to decision (test_duplicate_delivery.py)."""
    monkeypatch.setattr(validation, "_count_try", lambda request: None)


def test_a_write_between_claim_and_decision_is_read_before_deciding(officer, reviewer, monkeypatch, no_broker,
                                                                   durable):
    """The frozen clock gives every write the same ``updated_at``: the row version still tells."""
    request = submitted(officer, no_broker)
    assess = validation.assess

    def assigned_meanwhile(claimed):  # type: ignore[no-untyped-def]
        # Another process, between the claim and the decision: a queryset update, which leaves
        # updated_at alone, and a service's save.
        LegalRequest.objects.filter(pk=claimed.pk).update(deadline_explanation="written meanwhile")
        review_assign(actor=reviewer, request=LegalRequest.objects.get(pk=claimed.pk), reviewer=reviewer)
        return assess(claimed)

    monkeypatch.setattr(validation, "assess", assigned_meanwhile)
    moved = validation.request_validate(request_id=request.pk)
    assert moved is not None and moved.status == Status.IN_REVIEW
    assert moved.assigned_to_id == reviewer.pk  # the decision's instance is the row read afresh
    request.refresh_from_db()
    assert (request.status, request.assigned_to_id) == (Status.IN_REVIEW, reviewer.pk)


def test_a_withdrawal_between_claim_and_decision_leaves_it_withdrawn(officer, monkeypatch, no_broker, durable):
    from requests_app.services.submission import request_withdraw

    request = submitted(officer, no_broker)
    assess = validation.assess

    def withdrawn_meanwhile(claimed):  # type: ignore[no-untyped-def]
        request_withdraw(actor=officer, request=LegalRequest.objects.get(pk=claimed.pk), reason="no longer needed")
        return assess(claimed)

    monkeypatch.setattr(validation, "assess", withdrawn_meanwhile)
    assert validation.request_validate(request_id=request.pk) is None
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN and request.decision is None


def test_relock_reads_the_row_when_the_instance_was_not_locked_relockable(officer, no_broker):
    from requests_app.workflow import lock_request, relock

    request = submitted(officer, no_broker)
    with transaction.atomic():
        plain = lock_request(request.pk)
    with transaction.atomic(), CaptureQueriesContext(connection) as again:
        fresh = relock(plain)
    assert fresh is not plain and fresh.pk == request.pk
    assert [q["sql"] for q in again.captured_queries if q["sql"].startswith(ROW_READ)]


def test_relock_returns_the_same_instance_when_only_its_transaction_wrote_the_row(officer, no_broker):
    from requests_app.workflow import lock_request, relock

    request = submitted(officer, no_broker)
    with transaction.atomic():
        locked = lock_request(request.pk, relockable=True)
        locked.deadline_explanation = "written by the locking transaction"
        locked.save(update_fields=["deadline_explanation", "updated_at"])
    with transaction.atomic(), CaptureQueriesContext(connection) as again:
        assert relock(locked) is locked
    assert len(again.captured_queries) == 1 and "FOR UPDATE" in again.captured_queries[0]["sql"]
