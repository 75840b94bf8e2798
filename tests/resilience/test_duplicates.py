"""Duplicates against the real processes (issue 9 §1a): the same validate task delivered twice
to two workers, and two outbox sweepers racing. Each must end in one effect: one decision, one
audit event of each kind, one follow-up outbox row, one timer of each kind."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter

import pytest
from celery import Celery
from django.db import connection

from audit.models import AuditEvent
from outbox.models import OutboxMessage, OutboxStatus
from requests_app.models import LegalRequest, Timer

from .conftest import REPO, assert_books_balance, decided, wait_for
from .conftest import test_database_url as database_url

pytestmark = [pytest.mark.e2e, pytest.mark.running_clock]

VALIDATE = "requests_app.tasks.validate_request"


def submit_while_broker_down(rig, api, n: int, label: str) -> list[int]:
    """Submissions made while Redis is down: stored and answered, their validation rings lost."""
    rig.redis.stop()
    references = []
    for i in range(n):
        status, body = api.submit(case_reference=f"PN-DUP-{label}-{i}")
        assert status == 201, body
        references.append(body["reference"])
    rig.redis.start()
    ids = list(LegalRequest.objects.filter(reference__in=references).values_list("pk", flat=True))
    assert len(ids) == n
    return ids


def assert_one_effect(ids: list[int]) -> None:
    """One decision and one of everything it causes, per request."""
    connection.close()
    assert_books_balance(ids)
    for request in LegalRequest.objects.filter(pk__in=ids):
        assert request.decision is not None
        # A copy that arrives while the other is mid-validation re-claims the request (the same path
        # as a redelivery after a crash) and counts as an attempt; it decides nothing.
        assert 1 <= request.validation_attempts <= 2
        # Each kind of event once; a status change counts per (from, to).
        actions = Counter((action, (data or {}).get("from"), (data or {}).get("to")) for action, data in
                          AuditEvent.objects.filter(request_id=request.pk).values_list("action", "data"))
        assert actions and set(actions.values()) == {1}, f"{request.reference}: {actions}"
        follow_ups = Counter(OutboxMessage.objects.filter(request_id=request.pk).exclude(topic="request.validate")
                             .values_list("topic", flat=True))
        assert set(follow_ups.values()) == {1}, f"{request.reference}: {follow_ups}"
        kinds = Counter(Timer.objects.filter(request_id=request.pk).values_list("kind", flat=True))
        assert kinds and set(kinds.values()) == {1}, f"{request.reference}: {kinds}"


def test_the_same_validate_task_delivered_twice_to_two_workers(rig, rig_api):
    rig.start_web()
    api = rig_api()
    ids = submit_while_broker_down(rig, api, 6, "TWICE")
    rig.start_worker()
    rig.start_worker()
    broker = Celery(broker=rig.redis.url)
    for pk in ids:  # each message twice in a row: the two workers (prefetch 1) take one copy each
        broker.send_task(VALIDATE, args=[pk], queue="celery")
        broker.send_task(VALIDATE, args=[pk], queue="celery")
    took = wait_for(lambda: decided(ids), 30, "every request decided")
    time.sleep(1.5)  # the second copies run too (and must do nothing)
    logs = "".join(worker.log for worker in rig.workers)
    received = re.findall(rf"Task {re.escape(VALIDATE)}\[[0-9a-f-]+\] received", logs)
    assert len(received) >= 2 * len(ids), f"both copies of each message delivered: {len(received)}"
    assert all(f"{VALIDATE}[" in worker.log for worker in rig.workers), "both workers took messages"
    assert_one_effect(ids)
    print(f"{len(ids)} requests, each delivered twice to two workers; decided {took:.1f} s later, once each")


SWEEPER = """
import sys, time
import django
django.setup()
from outbox.relay import sweep
start_at = float(sys.argv[1])
time.sleep(max(0.0, start_at - time.time()))
print("sent", sweep(), flush=True)
"""


def test_two_outbox_sweepers_racing(rig, rig_api):
    rig.start_web()
    api = rig_api()
    ids = submit_while_broker_down(rig, api, 8, "SWEEP")
    # Their rings were lost with Redis (validation_queue): what stands for each now is the outbox
    # row the stuck-request sweeper writes, left pending as if its after-commit publish had failed.
    OutboxMessage.objects.bulk_create([OutboxMessage(topic="request.validate", request_id=pk, payload={"sweep": True})
                                       for pk in ids])
    pending = OutboxMessage.objects.filter(request_id__in=ids, topic="request.validate", status=OutboxStatus.PENDING)
    assert pending.count() == len(ids)
    # The first failure backs a row off 2 s; the sweep takes rows older than OUTBOX_RESEND_AFTER.
    time.sleep(4.5)
    env = {**rig.env, "DATABASE_URL": database_url("lrp-resil-sweeper")}
    start_at = time.time() + 3.0  # both processes set up, then sweep at the same instant
    sweepers = [subprocess.Popen([sys.executable, "-c", SWEEPER, repr(start_at)], cwd=REPO, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=30)[0] for p in sweepers]
    assert all(p.returncode == 0 for p in sweepers), outputs
    sent = [int(out.strip().rsplit(" ", 1)[-1]) for out in outputs]
    assert sum(sent) == len(ids), f"each row published by one sweeper only: {outputs}"
    assert not pending.exists(), "every row marked sent"
    rig.start_worker()
    rig.start_worker()
    took = wait_for(lambda: decided(ids), 30, "every request decided after the sweeps")
    time.sleep(1.0)
    assert_one_effect(ids)
    print(f"two sweepers published {sent} of {len(ids)} rows; decided {took:.1f} s later, once each")
