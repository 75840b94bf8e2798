"""Submission -> outbox -> Celery task -> validation, in one process (DESIGN.md §4.4; security.md §2.1-2.3).

Celery runs eagerly and the after-commit callbacks are executed by
``django_capture_on_commit_callbacks(execute=True)``, so the whole path runs as in production,
minus the broker. Real workers and Redis are in ``tests/e2e_worker``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from audit.models import AuditEvent
from outbox import relay as outbox
from outbox.models import OutboxMessage, OutboxStatus
from requests_app import tasks
from requests_app.models import LegalRequest, Timer
from requests_app.services.submission import clarification_submit, request_submit, request_withdraw
from requests_app.services.validation import MAX_ATTEMPTS
from requests_app.states import Status
from tests.conftest import epoc_body

pytestmark = pytest.mark.django_db

IP_WITHOUT_TIME = [{"kind": "ip_address", "value": "203.0.113.7"}]


@pytest.fixture(autouse=True)
def eager(settings):
    from portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert app.conf.task_always_eager, "Celery must see the Django setting"


def validated(**overrides):
    from requests_app.api.serializers import RequestCreateSerializer

    serializer = RequestCreateSerializer(data=epoc_body(**overrides))
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def clarification(**changes):
    from requests_app.api.serializers import ClarificationSerializer

    serializer = ClarificationSerializer(data={"message": "Corrected.", "changes": changes})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["changes"]


PIPELINE_ACTIONS = ("request.submitted", "request.status_changed", "request.validated",
                    "request.clarification_answered")


def actions(request: LegalRequest) -> list[str]:
    """The request's audit trail, limited to intake and validation (notifications add their own)."""
    return list(AuditEvent.objects.filter(request_id=request.pk, action__in=PIPELINE_ACTIONS).order_by("seq")
                .values_list("action", flat=True))


def validation_rows(request: LegalRequest):
    return OutboxMessage.objects.filter(request=request, topic="request.validate").order_by("id")


def error_fields(request: LegalRequest) -> list[str]:
    decision = request.decision or {}
    return [f.get("field") or "" for f in decision["findings"] if f["severity"] == "error"]


@pytest.fixture
def submit(officer, django_capture_on_commit_callbacks):
    """Submit as the API does and run what the commit triggers (publish -> eager validation)."""

    def run(**overrides) -> LegalRequest:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            request, created = request_submit(actor=officer, data=validated(**overrides))
        assert created and callbacks
        request.refresh_from_db()
        return request

    return run


@pytest.fixture
def broker_down(monkeypatch):
    """Every publish to the broker fails as kombu fails when Redis refuses connections."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.validate_request, "apply_async", refuse)
    return calls


# --- The happy path ------------------------------------------------------------------------------


def test_a_valid_request_is_validated_to_in_review(submit):
    request = submit()
    assert request.status == Status.IN_REVIEW
    assert request.decision["route"] == "accepted"
    assert not [f for f in request.decision["findings"] if f["severity"] == "error"]
    assert request.validation_attempts == 1
    assert actions(request) == ["request.submitted", "request.status_changed", "request.validated",
                                "request.status_changed"]
    moves = AuditEvent.objects.filter(request_id=request.pk, action="request.status_changed").order_by("seq")
    assert [(e.data["from"], e.data["to"]) for e in moves] == [
        (Status.RECEIVED, Status.VALIDATING), (Status.VALIDATING, Status.IN_REVIEW)]
    # The row in received was the queue entry (validation_queue): no outbox row of its own.
    assert not validation_rows(request).exists()


@pytest.mark.parametrize("overrides,field", [
    ({"targets": IP_WITHOUT_TIME}, "targets[0]"),
    ({"targets": [{"kind": "phone", "value": "0612345678"}]}, "targets[0]"),
    ({"targets": [{"kind": "message_url", "value": "https://evil.example/t.me/c/1/2"}]}, "targets[0]"),
    ({"targets": [{"kind": "channel_url", "value": "https://t.me.evil.example/chan"}]}, "targets[0]"),
    ({"offence": None}, "offence"),
    ({"instrument": "preservation_extension", "linked_reference": "LRP-2026-999999"}, "linked_reference"),
], ids=["ip-without-time", "phone-not-e164", "url-elsewhere", "url-lookalike-host", "no-offence", "annex-vi-unknown"])
def test_an_incomplete_request_asks_for_clarification(submit, overrides, field):
    """The finding's code belongs to the rules engine; the pipeline promises the state and the field."""
    request = submit(**overrides)
    assert request.status == Status.CLARIFICATION_REQUESTED
    assert request.decision["route"] == "clarification_required"
    assert any(f.startswith(field) for f in error_fields(request)), request.decision["findings"]
    validated_event = AuditEvent.objects.get(request_id=request.pk, action="request.validated")
    assert set(validated_event.data["codes"]) >= {f["code"] for f in request.decision["findings"]
                                                  if f["severity"] == "error"}


def test_annex_vi_naming_its_own_preservation_order_is_accepted(submit):
    preservation = submit(instrument="epoc_pr")
    extension = submit(instrument="preservation_extension", linked_reference=preservation.reference)
    assert not any(f.startswith("linked_reference") for f in error_fields(extension)), extension.decision


# --- Idempotent consumers (security.md §2.2, F12) --------------------------------------------------


def test_a_duplicate_delivery_changes_nothing(submit):
    request = submit()
    before = (actions(request), request.decision, request.validation_attempts, request.status_changed_at)
    tasks.validate_request.apply(args=(request.pk,)).get()
    tasks.validate_request.delay(request.pk)
    request.refresh_from_db()
    assert (actions(request), request.decision, request.validation_attempts, request.status_changed_at) == before


def test_a_duplicate_delivery_of_a_clarification_changes_nothing(submit):
    request = submit(targets=IP_WITHOUT_TIME)
    events = actions(request)
    tasks.validate_request.apply(args=(request.pk,)).get()
    request.refresh_from_db()
    assert request.status == Status.CLARIFICATION_REQUESTED and actions(request) == events


def test_a_task_for_a_missing_request_does_nothing():
    tasks.validate_request.apply(args=(987654321,)).get()
    assert AuditEvent.objects.count() == 0


def test_a_request_withdrawn_before_validation_is_not_validated(officer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request, _ = request_submit(actor=officer, data=validated())
    request_withdraw(actor=officer, request=request, reason="sent by mistake")
    for callback in callbacks:  # the message arrives after the withdrawal
        callback()
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN
    assert request.decision is None
    assert "request.validated" not in actions(request)


def validation_row(request: LegalRequest) -> OutboxMessage:
    """The outbox row of one request's validation, as the stuck-request sweeper writes it (a new
    submission has none: its row in received is the queue entry), its after-commit publish lost."""
    with transaction.atomic():
        return outbox.enqueue("request.validate", request=request, payload={"sweep": True})


def unvalidated(officer, django_capture_on_commit_callbacks) -> LegalRequest:
    with django_capture_on_commit_callbacks(execute=False):
        request, _ = request_submit(actor=officer, data=validated())
    return request


def test_the_same_outbox_row_is_published_once(officer, django_capture_on_commit_callbacks, monkeypatch):
    """The after-commit publish and the sweeper may race for one row; only one sends it."""
    sent = []
    monkeypatch.setattr(tasks.validate_request, "apply_async", lambda *a, **k: sent.append(a))
    request = unvalidated(officer, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        message = validation_row(request)
    assert outbox.publish(message.pk) is True
    assert outbox.publish(message.pk) is False
    assert len(sent) == 1


def test_a_second_sweeper_does_not_take_the_rows_a_first_one_claimed(officer, django_capture_on_commit_callbacks,
                                                                     broker_down):
    """Two sweepers one after the other inside OUTBOX_RESEND_AFTER: the rows go to the first only
    (on main both took every due row, and each published it)."""
    request = unvalidated(officer, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        message = validation_row(request)
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert outbox.due_message_ids() == [message.pk]
        assert outbox.due_message_ids() == [], "claimed by the first sweep"
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert outbox.due_message_ids() == [message.pk], "a sweeper that died leaves it for a later sweep"


# --- Broker down (F5, F7) ---------------------------------------------------------------------------


def test_broker_down_keeps_the_outbox_row_and_the_sweeper_sends_it_later(officer, django_capture_on_commit_callbacks,
                                                                         broker_down, monkeypatch):
    request = unvalidated(officer, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        message = validation_row(request)  # its publish after the commit fails
    request.refresh_from_db()
    assert request.status == Status.RECEIVED
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 1
    assert message.last_error.startswith("OperationalError") and "Connection refused" in message.last_error
    assert message.available_at > timezone.now()  # backoff before the next try
    assert message.sent_at is None
    assert len(broker_down) == 1

    assert tasks.sweep_outbox.apply().get() == 0  # too early: backoff plus OUTBOX_RESEND_AFTER
    assert len(broker_down) == 1

    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert tasks.sweep_outbox.apply().get() == 0  # still down: a second failure, longer backoff
        message.refresh_from_db()
        assert message.status == OutboxStatus.PENDING and message.attempts == 2
        assert len(broker_down) == 2

    monkeypatch.undo()  # the broker is back
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert tasks.sweep_outbox.apply().get() >= 1
        message.refresh_from_db()
        sent_at = message.sent_at
        tasks.sweep_outbox.apply().get()
    message.refresh_from_db()
    request.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.attempts == 3 and message.sent_at == sent_at
    assert request.status == Status.IN_REVIEW
    assert actions(request).count("request.validated") == 1


def test_a_row_that_keeps_failing_is_parked_as_failed(officer, django_capture_on_commit_callbacks, broker_down):
    request = unvalidated(officer, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        message = validation_row(request)
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=outbox.MAX_ATTEMPTS - 1)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        tasks.sweep_outbox.apply().get()
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED and message.attempts == outbox.MAX_ATTEMPTS
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        tasks.sweep_outbox.apply().get()
    assert len(broker_down) == 2  # a failed row is no longer retried


# --- Sweepers and timers ---------------------------------------------------------------------------


def lose_the_message(request: LegalRequest) -> None:
    """The drain was published, but the broker lost the message (Redis restarted, F6): nothing
    happened after the commit, and nothing will until the request is swept."""


@pytest.mark.parametrize("stuck_in", [Status.RECEIVED, Status.VALIDATING])
def test_sweep_stuck_requests_reenqueues_and_the_request_is_validated(
    officer, settings, django_capture_on_commit_callbacks, stuck_in
):
    with django_capture_on_commit_callbacks(execute=False):
        request, _ = request_submit(actor=officer, data=validated())
    if stuck_in == Status.VALIDATING:  # a worker died between claim and outcome
        from requests_app.services.validation import request_claim_for_validation

        request_claim_for_validation(request_id=request.pk)
    lose_the_message(request)

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_stuck_requests.apply().get() == 0  # not stuck yet
    request.refresh_from_db()
    assert request.status == stuck_in

    later = timezone.now() + settings.STUCK_REQUEST_AFTER + timedelta(seconds=5)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_stuck_requests.apply().get() == 1
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
    assert actions(request).count("request.validated") == 1
    resent = validation_rows(request).last()
    assert resent.payload == {"sweep": True} and resent.status == OutboxStatus.SENT

    with time_machine.travel(later + timedelta(hours=1)), django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_stuck_requests.apply().get() == 0  # validated requests are left alone


def test_fire_due_timers_fires_each_due_timer_exactly_once(officer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # not validated: no deadline timers of its own
        request, _ = request_submit(actor=officer, data=validated())
    assert not Timer.objects.exists()
    now = timezone.now()
    due = [Timer.objects.create(request=request, kind=f"due_{i}", due_at=now - timedelta(minutes=i + 1))
           for i in range(3)]
    future = Timer.objects.create(request=request, kind="future", due_at=now + timedelta(hours=1))
    cancelled = Timer.objects.create(request=request, kind="cancelled", due_at=now - timedelta(minutes=5),
                                     cancelled_at=now - timedelta(minutes=1))

    assert tasks.fire_due_timers.apply().get() == 3
    assert tasks.fire_due_timers.apply().get() == 0  # run twice (duplicate beat tick)

    fired = AuditEvent.objects.filter(action="timer.fired")
    assert sorted(e.data["kind"] for e in fired) == ["due_0", "due_1", "due_2"]
    assert {e.object_id for e in fired} == {str(t.pk) for t in due}
    for timer in due:
        timer.refresh_from_db()
        assert timer.fired_at is not None
    future.refresh_from_db()
    cancelled.refresh_from_db()
    assert future.fired_at is None and cancelled.fired_at is None

    with time_machine.travel(now + timedelta(hours=2)):
        assert tasks.fire_due_timers.apply().get() == 1  # the future one, once it is due
        assert tasks.fire_due_timers.apply().get() == 0
    assert AuditEvent.objects.filter(action="timer.fired").count() == 4


# --- Clarification round trip (Art. 10(4), Annex III) ------------------------------------------------


def test_a_clarification_answer_revalidates_and_reaches_in_review(submit, officer,
                                                                    django_capture_on_commit_callbacks):
    request = submit(targets=IP_WITHOUT_TIME)
    assert request.status == Status.CLARIFICATION_REQUESTED
    fixed = [{"kind": "ip_address", "value": "203.0.113.7",
              "timestamp": (timezone.now() - timedelta(days=2)).isoformat()}]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answered = clarification_submit(actor=officer, request=request, message="Time stamp added.",
                                        changes=clarification(targets=fixed))
    assert answered.status == Status.VALIDATING
    request.refresh_from_db()
    assert request.status == Status.VALIDATING
    assert request.targets.get().timestamp is not None
    for callback in callbacks:
        callback()

    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
    assert request.decision["route"] == "accepted"
    assert actions(request).count("request.validated") == 2
    assert "request.clarification_answered" in actions(request)
    # The re-validation names its request (an outbox row); the first round was a queue entry.
    assert validation_rows(request).filter(status=OutboxStatus.SENT).count() == 1


def test_an_answer_that_fixes_nothing_asks_again(submit, officer, django_capture_on_commit_callbacks):
    request = submit(targets=IP_WITHOUT_TIME)
    with django_capture_on_commit_callbacks(execute=True):
        clarification_submit(actor=officer, request=request, message="See the file.", changes={})
    request.refresh_from_db()
    assert request.status == Status.CLARIFICATION_REQUESTED
    assert "targets[0]" in error_fields(request)


def test_repeated_clarification_rounds_keep_checking_the_request(submit, officer,
                                                                django_capture_on_commit_callbacks):
    request = submit(targets=IP_WITHOUT_TIME)
    for round_ in range(MAX_ATTEMPTS + 1):
        with django_capture_on_commit_callbacks(execute=True):
            clarification_submit(actor=officer, request=request, message=f"Answer {round_}.", changes={})
        request.refresh_from_db()
        assert request.status == Status.CLARIFICATION_REQUESTED, f"round {round_ + 1}: {request.decision}"


def test_a_lost_message_of_an_emergency_is_resent_within_a_minute(officer, settings,
                                                                  django_capture_on_commit_callbacks):
    """Issue 16 §4: the emergency sweep has its own bound and beat entry (bound + period < 60 s)."""
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-stuck-emergencies"]
    assert entry["task"] == "requests_app.tasks.sweep_stuck_requests"
    assert entry["kwargs"] == {"emergency_only": True}
    assert settings.STUCK_EMERGENCY_AFTER.total_seconds() + entry["schedule"] < 60
    with django_capture_on_commit_callbacks(execute=False):
        emergency, _ = request_submit(actor=officer, data=validated(
            emergency=True, emergency_reason="Imminent threat to the life of a person."))
        ordinary, _ = request_submit(actor=officer, data=validated(case_reference="PN-ORDINARY"))
    assert emergency.emergency
    lose_the_message(emergency)
    lose_the_message(ordinary)

    worst = timezone.now() + settings.STUCK_EMERGENCY_AFTER + timedelta(seconds=entry["schedule"])
    with time_machine.travel(worst), django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_stuck_requests.apply(kwargs=entry["kwargs"]).get() == 1
    with time_machine.travel(worst), django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_stuck_requests.apply(kwargs=entry["kwargs"]).get() == 0  # decided now
    emergency.refresh_from_db()
    ordinary.refresh_from_db()
    assert emergency.status not in (Status.RECEIVED, Status.VALIDATING)
    assert actions(emergency).count("request.validated") == 1
    assert ordinary.status == Status.RECEIVED, "an ordinary request waits for its own bound"

    later = timezone.now() + settings.STUCK_REQUEST_AFTER + timedelta(seconds=5)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_stuck_requests.apply(kwargs=entry["kwargs"]).get() == 0
        assert tasks.sweep_stuck_requests.apply().get() == 1
    ordinary.refresh_from_db()
    assert ordinary.status == Status.IN_REVIEW
