"""Timers isolated (issue 9 item 1): one timer whose handler raises never blocks the others;
its failure is counted, retried with exponential backoff, and after the last try parked as a
dead letter."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from audit.models import AuditEvent
from outbox import relay as outbox
from outbox.models import OutboxMessage
from requests_app.models import Timer
from requests_app.timers import fire, fire_due, handlers

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_requests(submit):
    """Two production requests submitted at the same instant: their warn timers are due together."""
    first, second = submit(), submit()
    assert first.warn_at == second.warn_at
    return first, second


@pytest.fixture
def broken_warn(monkeypatch, two_requests):
    """The warn handler fails for the first request only, after doing part of its work."""
    broken = two_requests[0]
    real = handlers.HANDLERS["deadline_warn"]

    def handler(timer):
        if timer.request_id == broken.pk:
            outbox.enqueue("alert.deadline_warn", request=timer.request, payload={"half": "done"})
            raise RuntimeError("SMTP relay refused the alert")
        real(timer)

    monkeypatch.setitem(handlers.HANDLERS, "deadline_warn", handler)
    return Timer.objects.get(request=broken, kind="deadline_warn")


def warn_alerts(request) -> int:
    return OutboxMessage.objects.filter(request=request, topic="alert.deadline_warn").count()


def test_a_raising_handler_does_not_stop_the_other_timers(two_requests, broken_warn):
    broken, healthy = two_requests
    moment = broken.warn_at + timedelta(seconds=1)
    with time_machine.travel(moment, tick=False):
        assert fire_due() == 1
    assert warn_alerts(healthy) == 1
    assert warn_alerts(broken) == 0, "the failed handler's half-done work is rolled back"
    broken_warn.refresh_from_db()
    assert broken_warn.fired_at is None and broken_warn.dead_at is None
    assert broken_warn.attempts == 1
    assert broken_warn.last_error == "RuntimeError: SMTP relay refused the alert"
    assert broken_warn.next_attempt_at == moment + timedelta(seconds=60)
    assert not AuditEvent.objects.filter(request_id=broken.pk, action="timer.fired",
                                         data__kind="deadline_warn").exists()
    assert AuditEvent.objects.filter(request_id=healthy.pk, action="timer.fired", data__kind="deadline_warn").exists()


def test_the_failed_timer_is_retried_with_exponential_backoff(two_requests, broken_warn, settings):
    settings.TIMER_RETRY_SECONDS = 60
    moment = two_requests[0].warn_at + timedelta(seconds=1)
    with time_machine.travel(moment, tick=False):
        fire_due()
    expected_waits = [60, 120, 240]
    for attempt, wait in enumerate(expected_waits, start=1):
        broken_warn.refresh_from_db()
        assert broken_warn.attempts == attempt
        retry_at = broken_warn.next_attempt_at
        assert retry_at == moment + timedelta(seconds=wait)
        with time_machine.travel(retry_at - timedelta(seconds=1), tick=False):
            assert fire_due() == 0
        broken_warn.refresh_from_db()
        assert broken_warn.attempts == attempt, "not retried before its time"
        moment = retry_at
        with time_machine.travel(moment, tick=False):
            fire_due()


def test_after_the_last_try_the_timer_is_a_dead_letter(two_requests, broken_warn, settings):
    settings.TIMER_MAX_ATTEMPTS = 3
    broken = two_requests[0]
    moment = broken.warn_at + timedelta(seconds=1)
    for _ in range(3):
        with time_machine.travel(moment, tick=False):
            fire_due()
        broken_warn.refresh_from_db()
        moment = broken_warn.next_attempt_at or moment
    assert broken_warn.attempts == 3 and broken_warn.dead_at is not None and broken_warn.next_attempt_at is None
    assert broken_warn.fired_at is None and broken_warn.cancelled_at is None
    dead = AuditEvent.objects.filter(request_id=broken.pk, action="timer.dead_lettered")
    assert [(e.data["kind"], e.data["attempts"]) for e in dead] == [("deadline_warn", 3)]
    with time_machine.travel(moment + timedelta(days=30), tick=False):
        fire_due()
        assert fire(broken_warn.pk) is False
    broken_warn.refresh_from_db()
    assert broken_warn.attempts == 3 and warn_alerts(broken) == 0


def test_a_timer_that_recovers_fires_once(two_requests, broken_warn, monkeypatch):
    broken = two_requests[0]
    moment = broken.warn_at + timedelta(seconds=1)
    with time_machine.travel(moment, tick=False):
        fire_due()
    monkeypatch.setitem(handlers.HANDLERS, "deadline_warn", handlers._deadline_alert)  # the relay is back
    broken_warn.refresh_from_db()
    with time_machine.travel(broken_warn.next_attempt_at, tick=False):
        fire_due()
        fire_due()
    broken_warn.refresh_from_db()
    assert broken_warn.fired_at is not None and broken_warn.attempts == 1
    assert warn_alerts(broken) == 1
