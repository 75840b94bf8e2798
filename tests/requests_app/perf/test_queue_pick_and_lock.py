"""The validation queue's next request is picked and locked in one statement (issue 9 item 5;
``workflow.lock_next``): at 71a6081 a drain first took the id (``SELECT "id" … FOR UPDATE SKIP
LOCKED``), then locked and read the row with its authority and submitter (a second round trip
per request). Still: emergencies first, a row another transaction holds skipped (not waited
for), the ids the drain skips left alone, one text whatever their number."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from requests_app.models import LegalRequest
from requests_app.services import validation
from requests_app.services.submission import request_submit
from requests_app.states import Status
from requests_app.workflow import is_locked
from tests.conftest import epoc_body

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="FOR UPDATE SKIP LOCKED of the PostgreSQL path"),
]

ORDER = ("-emergency", "due_at", "pk")  # the queue's (services.validation._NEXT_PENDING)


def submitted(officer, **overrides) -> LegalRequest:  # type: ignore[no-untyped-def]
    from requests_app.api.serializers import RequestCreateSerializer

    serializer = RequestCreateSerializer(data=epoc_body(**overrides))
    serializer.is_valid(raise_exception=True)
    request, _ = request_submit(actor=officer, data=serializer.validated_data)
    return request


def reads_of_requests(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries
            if q["sql"].startswith("SELECT") and 'FROM "requests_app_legalrequest"' in q["sql"]]


def test_a_drain_reads_the_request_it_takes_in_one_statement(officer, no_broker):
    request = submitted(officer)
    with CaptureQueriesContext(connection) as worker:
        assert validation.validate_next_pending() == request.pk
    reads = reads_of_requests(worker)
    # The pick and the lock: one statement, the row with its authority and submitter, SKIP LOCKED.
    picks = [sql for sql in reads if "SKIP LOCKED" in sql]
    assert len(picks) == 1, reads
    assert '"accounts_authority"' in picks[0] and '"accounts_user"' in picks[0]
    assert 'FOR UPDATE OF "requests_app_legalrequest" SKIP LOCKED' in picks[0]
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW and request.validation_attempts == 1


def test_lock_next_takes_emergencies_first_and_leaves_the_skipped(officer, no_broker):
    from requests_app.workflow import lock_next

    first, second = submitted(officer, case_reference="PN-L-1"), submitted(officer, case_reference="PN-L-2")
    emergency = submitted(officer, case_reference="PN-L-E", emergency=True)
    with transaction.atomic():
        taken = lock_next(Status.RECEIVED, order_by=ORDER, select_related=("authority",))
        assert taken is not None and taken.pk == emergency.pk and is_locked(taken)
        assert taken.authority.pk == officer.authority_id
    with transaction.atomic():
        taken = lock_next(Status.RECEIVED, order_by=ORDER, skip={emergency.pk, first.pk})
        assert taken is not None and taken.pk == second.pk
    with transaction.atomic():
        assert lock_next(Status.RECEIVED, order_by=ORDER, skip={emergency.pk, first.pk, second.pk}) is None
        assert lock_next(Status.VALIDATING, order_by=ORDER) is None


def test_lock_next_skips_a_row_another_transaction_holds(officer, no_broker):
    from requests_app.workflow import lock_next

    held, free = submitted(officer, case_reference="PN-L-held"), submitted(officer, case_reference="PN-L-free")
    holding, release, done = threading.Event(), threading.Event(), threading.Event()

    def other_drain() -> None:
        try:
            with transaction.atomic():
                LegalRequest.objects.select_for_update().get(pk=held.pk)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()
            done.set()

    thread = threading.Thread(target=other_drain)
    thread.start()
    try:
        assert holding.wait(10)
        with transaction.atomic():
            taken = lock_next(Status.RECEIVED, order_by=ORDER)
            assert taken is not None and taken.pk == free.pk  # not waited for: skipped
    finally:
        release.set()
        thread.join(10)
    assert done.is_set()


def test_one_text_whatever_the_number_of_ids_skipped(officer, no_broker):
    from requests_app.workflow import lock_next

    submitted(officer)
    texts: set[str] = set()

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if "SKIP LOCKED" in sql:
            texts.add(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        for skip in (set(), {1}, {1, 2, 3}, set(range(10, 40))):
            with transaction.atomic():
                lock_next(Status.RECEIVED, order_by=ORDER, skip=skip, select_related=("authority",))
    assert len(texts) == 1, texts
