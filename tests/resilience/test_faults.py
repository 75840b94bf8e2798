"""Faults against the real processes (issue 16; issue 9 §2). After each fault: every request
decided exactly once within a bound, submitted = decided = audited, the audit chain verifies."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from outbox.models import OutboxMessage
from requests_app.models import LegalRequest, Notification, NotificationStatus

from .conftest import PENDING, WORKER_APP, assert_books_balance, decided, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.running_clock]

DECIDED_WITHIN = 60.0


def terminate_backends(application_name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND application_name = %s", [application_name])
        return int(cursor.fetchone()[0])


def submitter(rig, rig_api):
    """Submissions over HTTP through the rig's gunicorn (which publishes to the rig's Redis)."""
    rig.start_web()
    api = rig_api()

    def submit(**overrides) -> int:
        status, body = api.submit(**overrides)
        assert status == 201, body
        return LegalRequest.objects.get(reference=body["reference"]).pk

    return submit


def test_worker_heals_after_its_postgres_sessions_are_terminated(rig, rig_api):
    """On f02ea04 the worker kept its dead connections and every later task failed."""
    submit = submitter(rig, rig_api)
    worker = rig.start_worker()
    warm = submit(case_reference="PN-RESIL-WARM")
    wait_for(lambda: decided([warm]), 30, "the warm-up validation")

    ids = [warm]
    killed = 0
    for burst in range(3):
        ids += [submit(case_reference=f"PN-RESIL-{burst}-{i}") for i in range(5)]
        time.sleep(0.3)  # some are being validated now
        killed += terminate_backends(WORKER_APP)
    assert killed >= 1, "the probe found no worker session to terminate"

    took = wait_for(lambda: decided(ids), DECIDED_WITHIN, "every request decided after the terminations")
    assert worker.proc.poll() is None, "the worker was not restarted"
    # A new request after the faults goes straight through: the worker is healthy again.
    after = submit(case_reference="PN-RESIL-AFTER")
    wait_for(lambda: decided([after]), 20, "a request after the faults")
    assert_books_balance([*ids, after])
    print(f"terminated {killed} worker sessions; {len(ids)} requests decided {took:.1f} s later")


def test_redis_stopped_while_authorities_submit(rig, rig_api):
    """Every submission stored and answered (201), validated once Redis is back."""
    rig.start_web()
    rig.start_worker()
    rig.start_beat()
    api = rig_api()
    status, first = api.submit(case_reference="PN-RESIL-BEFORE")
    assert status == 201, first

    rig.redis.stop()
    answers = [api.submit(case_reference=f"PN-RESIL-DOWN-{i}") for i in range(8)]
    assert [s for s, _ in answers] == [201] * 8, answers
    references = [first["reference"]] + [body["reference"] for _, body in answers]
    ids = list(LegalRequest.objects.filter(reference__in=references).values_list("pk", flat=True))
    assert len(ids) == 9, "every answered submission is stored"

    rig.redis.start()
    took = wait_for(lambda: decided(ids), DECIDED_WITHIN, "validation once Redis is back")
    assert_books_balance(ids)
    print(f"8 submissions during the outage, all 201; decided {took:.1f} s after Redis came back")


def test_worker_killed_during_validation_validates_exactly_once(rig, rig_api):
    submit = submitter(rig, rig_api)
    rig.start_beat()
    ids = [submit(case_reference=f"PN-RESIL-KILL-{i}") for i in range(30)]  # queued, no worker yet
    worker = rig.start_worker()
    # Mid-batch: killed as soon as the first request is decided, however fast the machine is
    # (a fixed sleep let a quiet machine finish the whole batch before the kill).
    wait_for(lambda: LegalRequest.objects.filter(pk__in=ids).exclude(status__in=PENDING).exists(),
             DECIDED_WITHIN, "the worker's first decision")
    worker.kill()
    pending_at_kill = LegalRequest.objects.filter(pk__in=ids, status__in=PENDING).count()
    assert pending_at_kill > 0, "the worker finished before the kill: no fault was injected"
    rig.start_worker()
    took = wait_for(lambda: decided(ids), DECIDED_WITHIN, "validation after the SIGKILL")
    assert_books_balance(ids)
    print(f"worker SIGKILLed with {pending_at_kill} of {len(ids)} undecided; all decided {took:.1f} s later")


def test_a_lost_emergency_message_is_resent_within_a_minute(rig, rig_api):
    """Measured: the worker dies holding the emergency's message; the sweep re-sends it."""
    submit = submitter(rig, rig_api)
    rig.start_beat()
    worker = rig.start_worker()
    worker.kill()  # the message will sit unacknowledged or be lost with the worker
    emergency = submit(emergency=True, emergency_reason="Imminent threat to the life of a person.")
    rig.redis.stop()  # the queued message is lost with Redis (no persistence)
    rig.redis.start()
    rig.start_worker()
    start = time.monotonic()  # from a worker ready to take it (start-up is not the sweeper's delay)
    wait_for(lambda: decided([emergency]), 60, "the emergency re-sent by the sweeper")
    took = time.monotonic() - start
    assert took < 60
    # Re-sent by whichever safety net runs first: the beat's ring for a request waiting longer
    # than OUTBOX_RESEND_AFTER (validation_queue: a new drain), or the stuck-emergency sweeper
    # (an outbox row naming it). Either way it is validated once.
    resent = OutboxMessage.objects.filter(request_id=emergency, topic="request.validate", payload={"sweep": True})
    assert_books_balance([emergency])
    how = "the stuck-emergency sweeper" if resent.exists() else "the beat's ring for a waiting request"
    print(f"lost emergency message re-sent by {how} and decided {took:.1f} s after a worker was ready")


def test_database_killed_under_a_notification_send_loses_no_email(rig, rig_api):
    """Every notification ends sent or in the dead-letter list (failed)."""
    submit = submitter(rig, rig_api)
    rig.start_beat()
    rig.start_worker()
    ids = [submit(case_reference=f"PN-RESIL-MAIL-{i}") for i in range(4)]
    for _ in range(6):
        time.sleep(0.4)
        terminate_backends(WORKER_APP)
    wait_for(lambda: decided(ids), DECIDED_WITHIN, "every request decided")

    def settled() -> bool:
        notify = OutboxMessage.objects.filter(request_id__in=ids, topic__startswith="notify.")
        planned = Notification.objects.filter(outbox__in=notify)
        return (notify.exists() and planned.count() >= notify.count()
                and not planned.exclude(status__in=[NotificationStatus.SENT, NotificationStatus.FAILED]).exists())

    wait_for(settled, DECIDED_WITHIN, "every notification sent or parked as a dead letter")
    assert_books_balance(ids)
