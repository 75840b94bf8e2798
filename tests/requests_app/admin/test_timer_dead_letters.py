"""Dead timers in the admin: a legal admin retries or discards them (audited); a reviewer
sees them but cannot act (issue 9 item 1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.models import Timer
from requests_app.services import dead_letters
from requests_app.timers import fire_due

pytestmark = pytest.mark.django_db

TIMERS = "/admin/requests_app/timer/"


def dead_timer(request, kind="deadline_warn") -> Timer:
    now = timezone.now()
    return Timer.objects.create(request=request, kind=kind, due_at=now - timedelta(hours=1), attempts=5,
                                last_error="RuntimeError: SMTP relay refused the alert", dead_at=now)


def test_dead_timers_are_listed_with_their_error(as_reviewer, make_request):
    timer = dead_timer(make_request())
    Timer.objects.create(request=timer.request, kind="deadline_due", due_at=timezone.now() + timedelta(days=3))
    page = as_reviewer.get(TIMERS, {"state": "dead"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "SMTP relay refused the alert" in html
    assert list(page.context["cl"].queryset) == [timer]


def test_a_legal_admin_retries_a_dead_timer_and_it_fires(as_admin, legal_admin, make_request):
    timer = dead_timer(make_request())
    response = as_admin.post(TIMERS, {"action": "retry", "_selected_action": [timer.pk]})
    assert response.status_code == 302
    timer.refresh_from_db()
    assert (timer.dead_at, timer.attempts, timer.next_attempt_at, timer.cancelled_at) == (None, 0, None, None)
    retried = AuditEvent.objects.get(action="timer.retried")
    assert retried.actor_id == legal_admin.pk and retried.request_id == timer.request_id
    assert retried.data["kind"] == "deadline_warn" and "SMTP" in retried.data["last_error"]
    assert fire_due() == 1
    timer.refresh_from_db()
    assert timer.fired_at is not None
    assert OutboxMessage.objects.filter(request=timer.request, topic="alert.deadline_warn").count() == 1


def test_a_legal_admin_discards_a_dead_timer_and_it_never_fires(as_admin, legal_admin, make_request):
    timer = dead_timer(make_request())
    as_admin.post(TIMERS, {"action": "discard", "_selected_action": [timer.pk]})
    timer.refresh_from_db()
    assert timer.cancelled_at is not None and timer.fired_at is None
    discarded = AuditEvent.objects.get(action="timer.discarded")
    assert discarded.actor_id == legal_admin.pk and discarded.request_id == timer.request_id
    assert dead_letters.timer_retry(actor=legal_admin, ids=[timer.pk]) == 0, "a discarded timer stays discarded"
    assert fire_due() == 0


def test_retry_and_discard_leave_live_timers_alone(as_admin, make_request):
    """Only dead letters are retried or discarded: an open timer keeps its schedule."""
    obj = make_request()
    pending = Timer.objects.create(request=obj, kind="deadline_due", due_at=timezone.now() + timedelta(days=3))
    as_admin.post(TIMERS, {"action": "discard", "_selected_action": [pending.pk]})
    as_admin.post(TIMERS, {"action": "retry", "_selected_action": [pending.pk]})
    pending.refresh_from_db()
    assert pending.cancelled_at is None and pending.dead_at is None
    assert not AuditEvent.objects.filter(action__startswith="timer.").exists()


def test_a_reviewer_cannot_retry_or_discard_a_dead_timer(as_reviewer, reviewer, make_request):
    timer = dead_timer(make_request())
    page = as_reviewer.get(TIMERS)
    assert page.status_code == 200 and 'value="retry"' not in page.content.decode()
    as_reviewer.post(TIMERS, {"action": "retry", "_selected_action": [timer.pk]})
    as_reviewer.post(TIMERS, {"action": "discard", "_selected_action": [timer.pk]})
    from requests_app.services.errors import ServiceError

    for service in (dead_letters.timer_retry, dead_letters.timer_discard):
        with pytest.raises(ServiceError) as refused:
            service(actor=reviewer, ids=[timer.pk])
        assert refused.value.code == "permission_denied"
    timer.refresh_from_db()
    assert timer.dead_at is not None and timer.cancelled_at is None and timer.attempts == 5
    assert not AuditEvent.objects.filter(action__startswith="timer.").exists()
