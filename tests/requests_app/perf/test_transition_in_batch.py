"""workflow.transition inside an audit batch: no savepoint of its own (two round trips fewer per
move, issue 9 item 5), and still no state change without its audit event.

Outside a batch the transition keeps its savepoint (tests/requests_app/test_workflow.py::
test_a_failing_audit_write_rolls_the_move_back: the caller's transaction stays usable).
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit import trail as audit
from audit.models import AuditEvent
from requests_app.api.serializers import RequestCreateSerializer
from requests_app.models import LegalRequest
from requests_app.services.submission import request_submit
from requests_app.states import Lifecycle, Status
from requests_app.workflow import lock_request, transition
from tests.conftest import epoc_body

pytestmark = pytest.mark.django_db


def in_review(officer) -> LegalRequest:
    serializer = RequestCreateSerializer(data=epoc_body())
    serializer.is_valid(raise_exception=True)
    request = request_submit(actor=officer, data=serializer.validated_data)[0]
    LegalRequest.objects.filter(pk=request.pk).update(lifecycle=Lifecycle.PRODUCTION, status=Status.IN_REVIEW)
    request.refresh_from_db()
    return request


def moves(request: LegalRequest) -> list[tuple[str, str]]:
    return [(e.data["from"], e.data["to"]) for e in AuditEvent.objects.filter(
        request_id=request.pk, action="request.status_changed").order_by("seq")]


def test_a_move_in_a_batch_takes_no_savepoint_and_writes_its_event(officer, reviewer):
    request = in_review(officer)
    with CaptureQueriesContext(connection) as context, transaction.atomic(), audit.batch():
        transition(lock_request(request), Status.REFUSED, actor=reviewer)
    sql = [q["sql"] for q in context.captured_queries]
    # The test's own transaction.atomic() here is a savepoint (the test runs in a transaction): one pair only.
    assert sum(s.startswith("SAVEPOINT") for s in sql) == 1, sql
    request.refresh_from_db()
    assert request.status == Status.REFUSED
    assert moves(request) == [(Status.IN_REVIEW, Status.REFUSED)]
    assert audit.verify_chain() is None


def test_a_failing_move_in_a_batch_fails_the_whole_unit(officer, reviewer, monkeypatch):
    """Fail closed (security.md H5): the enclosing transaction is rolled back, the move with it."""
    request = in_review(officer)

    def broken(*args, **kwargs):
        raise RuntimeError("audit store down")

    with pytest.raises(RuntimeError), transaction.atomic(), audit.batch():
        locked = lock_request(request)
        monkeypatch.setattr(audit, "record", broken)
        transition(locked, Status.REFUSED, actor=reviewer)
    monkeypatch.undo()
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
    assert moves(request) == []


def received(officer) -> LegalRequest:
    serializer = RequestCreateSerializer(data=epoc_body())
    serializer.is_valid(raise_exception=True)
    return request_submit(actor=officer, data=serializer.validated_data)[0]


def request_updates(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if q["sql"].startswith('UPDATE "requests_app_legalrequest"')]


def test_a_deferred_move_is_written_with_the_next_move_in_one_update(officer):
    """transition(defer_save=True): the first delivery's received → validating → in_review."""
    request = received(officer)
    with CaptureQueriesContext(connection) as context, transaction.atomic(), audit.batch():
        locked = lock_request(request)
        transition(locked, Status.VALIDATING, extra_fields={"validation_attempts": 1}, defer_save=True)
        assert LegalRequest.objects.get(pk=request.pk).status == Status.RECEIVED  # not written yet
        transition(locked, Status.IN_REVIEW)
    assert len(request_updates(context)) == 1
    request.refresh_from_db()
    assert (request.status, request.validation_attempts) == (Status.IN_REVIEW, 1)
    assert moves(request) == [(Status.RECEIVED, Status.VALIDATING), (Status.VALIDATING, Status.IN_REVIEW)]
    assert audit.verify_chain() is None


def test_a_deferred_move_no_move_follows_is_written_before_its_event(officer):
    """No event without its move: the batch writes the row before the events."""
    request = received(officer)
    with CaptureQueriesContext(connection) as context, transaction.atomic(), audit.batch():
        transition(lock_request(request), Status.VALIDATING, extra_fields={"validation_attempts": 1},
                   defer_save=True)
    sql = [q["sql"] for q in context.captured_queries]
    update = next(i for i, s in enumerate(sql) if s.startswith('UPDATE "requests_app_legalrequest"'))
    assert update < next(i for i, s in enumerate(sql) if "INSERT INTO audit_chain" in s)
    request.refresh_from_db()
    assert (request.status, request.validation_attempts) == (Status.VALIDATING, 1)
    assert moves(request) == [(Status.RECEIVED, Status.VALIDATING)]


def test_a_deferred_move_outside_a_batch_is_refused_and_writes_nothing(officer):
    request = received(officer)
    with pytest.raises(RuntimeError, match=r"audit\.batch"), transaction.atomic():
        transition(lock_request(request), Status.VALIDATING, defer_save=True)
    request.refresh_from_db()
    assert request.status == Status.RECEIVED and moves(request) == []


def test_a_deferred_move_in_a_rolled_back_savepoint_writes_neither_row_nor_event(officer):
    request = received(officer)
    with transaction.atomic(), audit.batch():
        locked = lock_request(request)
        with pytest.raises(RuntimeError, match="changed its mind"), transaction.atomic():
            transition(locked, Status.VALIDATING, defer_save=True)
            raise RuntimeError("the caller changed its mind")
    request.refresh_from_db()
    assert request.status == Status.RECEIVED and moves(request) == []
