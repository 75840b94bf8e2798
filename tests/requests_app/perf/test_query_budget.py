"""The SQL statements of one submission and its validation, as production runs them (issue 9 item 5).

An upper bound per side, so that waste (an N+1, a read-back, a redundant save, an audit event
written statement by statement) cannot creep back unnoticed. The transactions really commit
(``transaction=True``), so the after-commit work is counted where it runs: the outbox publish
of the web side, and on the worker side the receipt that the validation task sends itself.
Only the broker is left out (``apply_async`` is recorded, not sent).

At 34d4ec4 the figures were 14 (web) and 28, then 11 more in a second task for the receipt
(BEGIN and COMMIT included): every audit event took 4 to 6 statements (head lock, chain
creation, sequence, insert, head update), one per event.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit import trail as audit
from audit.models import AuditEvent
from outbox.models import OutboxMessage, OutboxStatus
from requests_app import tasks
from requests_app.models import LegalRequest, Notification
from requests_app.states import Status
from tests.conftest import client_for, epoc_body

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="statement counts of the PostgreSQL path"),
]

# Statements as the test cursor logs them, BEGIN / SAVEPOINT / COMMIT included (round trips too).
# Web: token; BEGIN, the reference and the audit event's number (one statement), request,
# targets, audit (the event and its chain's head in one), COMMIT. At fae76c2 8: the event's
# number drawn apart. At 630151b 10: the request.validate outbox row's INSERT, and its "sent" UPDATE
# after the commit (the row in received is now its own queue entry: validation_queue).
WEB_BUDGET = 7
# Worker, the drain (validation_queue) taking the request from the queue, claimed and decided in
# one transaction under one row lock (services.validation): BEGIN, the queue's next picked and
# locked with its authority, submitter and targets (workflow.lock_next, compiled.reverse_rows),
# timers, one UPDATE of the row for both moves, the staff who hear of it, the receipt's outbox row
# (written as consumed) and its Notification row (notifications.enqueue), audit 2 for the three
# events, COMMIT; then the receipt sent (BEGIN, its lock with the reader's account for the zone
# its dates are written in, issue 13 item 7, in one statement, the "sent" mark, COMMIT). Then the
# drain's end: a look that finds the queue empty (BEGIN, next, COMMIT), one look after its wait
# for a late submission (VALIDATION_DRAIN_LINGER_SECONDS), and after its bell is released one more
# look.
# At fae76c2 21: the reader's account read apart from the receipt's lock, the targets apart from
# the queue's.
# At 71a6081 25: the queue's pick apart from the lock, and the receipt planned after the commit in
# a transaction of its own (BEGIN, the staff, the Notification row, the outbox row's "sent"
# UPDATE, COMMIT). At 630151b 19 (a task per request named it: no queue look-ups; the web paid an
# outbox row, its publish and its "sent" UPDATE instead).
# At 972af46, 27: the in-progress advisory lock and its unlock, and a claim transaction of its own
# (BEGIN, UPDATE, audit 2, COMMIT) before a decision transaction that locked the row again.
WORKER_BUDGET = 19


def queries(context: CaptureQueriesContext) -> str:
    return "\n".join(q["sql"][:150] for q in context.captured_queries)


def test_one_submission_and_its_validation_stay_within_their_query_budget(officer, no_broker, settings):
    api = client_for(officer)
    assert api.get("/api/v1/requests/").status_code == 200  # the token's first use is written once
    with CaptureQueriesContext(connection) as web:
        response = api.post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201, response.content
    request = LegalRequest.objects.get(reference=response.json()["reference"])
    bell = request.pk % settings.VALIDATION_DRAINERS
    assert no_broker == [("drain_validations", (bell,))], "a drain rung for it (validation_queue)"
    assert len(web) <= WEB_BUDGET, f"{len(web)} queries:\n{queries(web)}"

    mail.outbox = []
    with CaptureQueriesContext(connection) as worker:
        assert tasks.drain_validations.run(bell) == 1
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW and request.validation_attempts == 1
    assert len(worker) <= WORKER_BUDGET, f"{len(worker)} queries:\n{queries(worker)}"
    # Both moves in one UPDATE of the request row.
    updates = [q["sql"] for q in worker.captured_queries if q["sql"].startswith('UPDATE "requests_app_legalrequest"')]
    assert len(updates) == 1, updates

    # What the statements did: every event in the chain, every outbox row sent, the receipt
    # sent once by the validation task itself (no second task on the broker).
    assert list(AuditEvent.objects.filter(request_id=request.pk).order_by("chain_seq")
                .values_list("action", flat=True)) == ["request.submitted", "request.status_changed",
                                                      "request.validated", "request.status_changed"]
    assert audit.verify_chain() is None
    assert set(OutboxMessage.objects.filter(request=request).values_list("topic", "status")) == {
        ("notify.new_request", OutboxStatus.SENT)}
    assert no_broker == [("drain_validations", (bell,))]
    assert [m.to for m in mail.outbox] == [[officer.email]]
    assert Notification.objects.filter(request=request, status="sent").count() == 1


# A drain that finds five requests waiting (the shape under load): each decided in its own
# transaction as above (10 statements), their five receipts sent together when the queue is
# empty (notifications.sent_together: BEGIN, one lock of the five with their readers, one "sent"
# UPDATE, COMMIT), and the drain's end: the look that found the queue empty (BEGIN, next, COMMIT)
# and the two looks after it (no wait here: the queue's lock of the next is the first look). At
# 8bd5b38 75: each receipt sent in a transaction of its own (4 statements each, 20 for the five).
DRAIN_OF_FIVE_BUDGET = 5 * 10 + 4 + 3 + 2


def test_a_drain_of_five_sends_their_receipts_together_within_its_budget(officer, no_broker, settings):
    settings.VALIDATION_DRAINERS = 1
    api = client_for(officer)
    assert api.get("/api/v1/requests/").status_code == 200
    references = [api.post("/api/v1/requests/", epoc_body(), format="json").json()["reference"] for _ in range(5)]
    mail.outbox = []
    with CaptureQueriesContext(connection) as worker:
        assert tasks.drain_validations.run(0) == 5
    assert len(worker) <= DRAIN_OF_FIVE_BUDGET, f"{len(worker)} queries:\n{queries(worker)}"
    assert [m.to for m in mail.outbox] == [[officer.email]] * 5
    assert Notification.objects.filter(request__reference__in=references, status="sent").count() == 5
    assert audit.verify_chain() is None
