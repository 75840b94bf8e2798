"""Timers isolated (issue 9 item 1), end to end through the beat task and the admin.

One timer whose handler raises never blocks the others: each fires in its own transaction;
the failure is counted and retried with exponential backoff; after the last try it is parked
as a dead letter that the admin lists, with retry and discard (audited), like e-mails. Also
when the failure takes the database session with it (``pg_terminate_backend``): the rest of
the sweep goes on on a fresh session and the failure is still counted. Afterwards
submitted = decided = audited and ``verify_audit`` passes.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import psycopg
import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app import tasks
from requests_app.models import LegalRequest, Timer
from requests_app.services.submission import request_submit
from requests_app.services.validation import request_validate
from requests_app.timers import handlers
from tests.conftest import validated

from .conftest import assert_books_balance

pytestmark = pytest.mark.django_db(transaction=True)

TIMERS = "/admin/requests_app/timer/"


@pytest.fixture
def three(no_publish, officer) -> list[LegalRequest]:
    """Three production requests submitted at one instant: their warn timers fall due together."""
    made = []
    for i in range(3):
        request, _ = request_submit(actor=officer, data=validated(case_reference=f"PN-TIMER-{i}"))
        request_validate(request_id=request.pk)
        made.append(LegalRequest.objects.get(pk=request.pk))
    assert len({r.warn_at for r in made}) == 1 and made[0].warn_at is not None
    return made


def warned(request: LegalRequest) -> int:
    return OutboxMessage.objects.filter(request=request, topic="alert.deadline_warn").count()


def sweep(moment) -> int:
    with time_machine.travel(moment, tick=False):
        return tasks.fire_due_timers.apply(throw=True).get()


def test_a_failing_timer_is_retried_then_parked_and_the_admin_retries_it(three, monkeypatch, legal_admin,
                                                                          reviewer):
    broken = three[0]
    real = handlers.HANDLERS["deadline_warn"]

    def handler(timer):
        if timer.request_id == broken.pk:
            real(timer)  # half its work done, then it fails: rolled back with it
            raise RuntimeError("SMTP relay refused the alert")
        real(timer)

    monkeypatch.setitem(handlers.HANDLERS, "deadline_warn", handler)
    monkeypatch.setattr(logging.getLogger("requests_app.timers.firing"), "disabled", True)  # tracebacks are slow
    warn = Timer.objects.get(request=broken, kind="deadline_warn")
    moment = broken.warn_at + timedelta(seconds=1)
    assert sweep(moment) >= 2
    assert [warned(r) for r in three] == [0, 1, 1], "the others fired; the failure left nothing behind"

    waits = []
    for attempt in range(1, settings.TIMER_MAX_ATTEMPTS + 1):
        warn.refresh_from_db()
        assert warn.attempts == attempt and warn.fired_at is None
        assert warn.last_error == "RuntimeError: SMTP relay refused the alert"
        if warn.dead_at is not None:
            break
        waits.append((warn.next_attempt_at - moment).total_seconds())
        assert sweep(warn.next_attempt_at - timedelta(seconds=1)) == 0, "not before its next try"
        moment = warn.next_attempt_at
        sweep(moment)
    base = settings.TIMER_RETRY_SECONDS
    assert waits == [min(base * 2**n, settings.TIMER_RETRY_MAX_SECONDS) for n in range(len(waits))]
    assert warn.attempts == settings.TIMER_MAX_ATTEMPTS and warn.dead_at is not None
    assert AuditEvent.objects.filter(request_id=broken.pk, action="timer.dead_lettered").count() == 1
    sweep(moment + timedelta(days=1))
    warn.refresh_from_db()
    assert warn.attempts == settings.TIMER_MAX_ATTEMPTS, "a dead letter is not tried again by itself"

    # The admin lists it; a reviewer sees it, only a legal admin acts.
    with time_machine.travel(moment + timedelta(days=1, minutes=1), tick=False):
        reviewer_client, admin_client = Client(), Client()
        reviewer_client.force_login(reviewer)
        admin_client.force_login(legal_admin)
        page = reviewer_client.get(TIMERS, {"state": "dead"})
        assert page.status_code == 200 and list(page.context["cl"].queryset) == [warn]
        assert "SMTP relay refused the alert" in page.content.decode()
        assert 'value="retry"' not in page.content.decode()
        assert 'value="retry"' in admin_client.get(TIMERS, {"state": "dead"}).content.decode()
        monkeypatch.setitem(handlers.HANDLERS, "deadline_warn", real)  # the relay is fixed
        response = admin_client.post(TIMERS, {"action": "retry", "_selected_action": [warn.pk]})
        assert response.status_code == 302
    assert sweep(moment + timedelta(days=1, minutes=2)) >= 1
    sweep(moment + timedelta(days=1, minutes=3))  # another tick: nothing fires twice
    warn.refresh_from_db()
    assert warn.fired_at is not None and warned(broken) == 1, "fired once after the retry"
    assert AuditEvent.objects.filter(request_id=broken.pk, action="timer.retried", actor_id=legal_admin.pk).exists()
    fired = AuditEvent.objects.filter(request_id=broken.pk, action="timer.fired", data__kind="deadline_warn")
    assert fired.count() == 1
    assert_books_balance([r.pk for r in three])


def _terminate_own_session() -> None:
    db = settings.DATABASES["default"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                         password=db.get("PASSWORD") or None, dbname=db["NAME"], autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_timer_whose_failure_kills_the_session_does_not_stop_the_sweep(three, monkeypatch):
    """On 34d4ec4 such a failure was not counted: no attempt, no backoff, no dead letter; the
    timer was tried again at every beat tick, for ever, and never showed in the admin."""
    broken, *healthy = three
    real = handlers.HANDLERS["deadline_warn"]
    killed = []

    def handler(timer):
        if timer.request_id == broken.pk and not killed:
            killed.append(timer.pk)
            _terminate_own_session()  # a failover, an idle-timeout proxy, an operator
        real(timer)

    monkeypatch.setitem(handlers.HANDLERS, "deadline_warn", handler)
    # Its tracebacks (rendered with their locals) cost seconds on a loaded machine; not asserted.
    monkeypatch.setattr(logging.getLogger("requests_app.timers.firing"), "disabled", True)
    # The broken request's timer first in the sweep (the same due instant: id order).
    assert Timer.objects.get(request=broken, kind="deadline_warn").pk < min(
        Timer.objects.filter(request__in=healthy, kind="deadline_warn").values_list("pk", flat=True))
    sweep(broken.warn_at + timedelta(seconds=1))
    connection.close()
    assert killed
    assert [warned(r) for r in healthy] == [1, 1], "the other timers fired in the same sweep"
    warn = Timer.objects.get(request=broken, kind="deadline_warn")
    assert warn.fired_at is None and warn.attempts == 1 and warn.next_attempt_at is not None, "counted"
    assert "OperationalError" in warn.last_error or "InterfaceError" in warn.last_error, warn.last_error
    sweep(warn.next_attempt_at)
    warn.refresh_from_db()
    assert warn.fired_at is not None and warned(broken) == 1
    assert_books_balance([r.pk for r in three])
