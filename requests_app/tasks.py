"""Celery tasks. Thin: each loads by id and calls a service; all are idempotent because
with ``acks_late`` a message can be delivered twice (DESIGN.md §4.4)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from outbox import relay as outbox
from outbox.models import OutboxMessage

from . import notifications, timers, validation_queue
from .models import LegalRequest, Notification
from .services.validation import request_validate
from .states import Status

log = logging.getLogger(__name__)


# The validation tasks send their own receipts (``notifications.sent_here``).
notifications_sent_here = notifications.sent_here
sending_notifications_here = notifications.sending_here


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=300,
             max_retries=8)
def validate_request(request_id: int) -> None:
    with notifications_sent_here():
        request_validate(request_id=request_id)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=300,
             max_retries=8)
def drain_validations(bell: int = 0) -> int:
    """Validate the requests waiting in ``received`` until none is left (``validation_queue``):
    one task for the requests submitted while it runs, each in its own transaction."""
    with notifications_sent_here(), notifications.sent_together():
        return validation_queue.drain(bell)


@shared_task
def ring_for_waiting_requests() -> int:
    """A drain for requests whose doorbell was never rung (the cache or broker down at commit)."""
    return validation_queue.ring_for_waiting_requests()


@shared_task
def sweep_outbox() -> int:
    """Publish outbox rows whose after-commit publish failed or was lost."""
    return outbox.sweep()


@shared_task
def sweep_stuck_requests(emergency_only: bool = False) -> int:
    """Re-queue validation of requests that sat in received/validating for too long.

    Emergencies have their own, shorter bound (``STUCK_EMERGENCY_AFTER``) and their own beat
    entry running every ``STUCK_EMERGENCY_SWEEP_SECONDS``, so a lost in-flight message of an
    emergency (8-hour clock, Art. 10(4) Regulation (EU) 2023/1543) is re-sent within a minute.
    """
    now = timezone.now()
    pending = LegalRequest.objects.filter(status__in=[Status.RECEIVED, Status.VALIDATING])
    emergencies = Q(emergency=True, status_changed_at__lt=now - settings.STUCK_EMERGENCY_AFTER)
    ordinary = Q(status_changed_at__lt=now - settings.STUCK_REQUEST_AFTER)
    stuck = list(pending.filter(emergencies if emergency_only else emergencies | ordinary)
                 .order_by("-emergency", "status_changed_at", "pk").values_list("pk", flat=True)[:500])
    for request_id in stuck:
        with transaction.atomic():
            outbox.enqueue("request.validate", request=LegalRequest(pk=request_id), payload={"sweep": True})
    if stuck:
        log.info("re-queued validation of %d stuck requests", len(stuck))
    return len(stuck)


@shared_task
def recompute_deadlines() -> int:
    """Deadlines of open requests decided under an older provider configuration."""
    from .services.deadlines import recompute_stale

    return recompute_stale()


@shared_task
def fire_due_timers() -> int:
    """Fire each due timer exactly once, each in its own transaction (``timers.firing``)."""
    return timers.fire_due()


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=8)
def send_notifications(outbox_id: int, message: OutboxMessage | None = None) -> int:
    """Fan an outbox event out to one notification per recipient and send them here; a
    recipient whose delivery fails gets its own retrying task, so one bad mailbox delays
    nobody else. ``message``: the outbox row in memory, when this runs in the task that wrote
    it (``notifications_sent_here``; never over the broker)."""
    rows = notifications.plan_rows(outbox_id, message=message, publishing=message is not None)
    send_planned(rows)
    return len(rows)


def send_planned(rows: list[Notification]) -> None:
    """Send rows this task planned (not read back); one whose delivery fails gets its own
    retrying task, so one bad mailbox delays nobody else."""
    for row in rows:
        try:
            notifications.send(row.pk, planned=row)
        except Exception:
            send_notification.apply_async(args=(row.pk,), countdown=5)


def send_planned_together(rows: list[Notification]) -> None:
    """Send rows this task planned together (``notifications.send_together``: one transaction, one
    SMTP session); each one whose delivery failed, or all of them if the database failed, gets its
    own retrying task. Never raises: with the broker down too, the rows stay pending for the
    notification sweeper."""
    try:
        failed = notifications.send_together(rows)
    except Exception:
        log.exception("%d notifications not sent together; each retried on its own", len(rows))
        failed = rows
    for row in failed:
        try:
            send_notification.apply_async(args=(row.pk,), countdown=5)
        except Exception as exc:  # the broker is down: the sweeper sends what is pending
            log.warning("retry of notification %s not queued (%s: %s); left to the sweeper", row.pk,
                        type(exc).__name__, exc)


@shared_task(bind=True, acks_late=True, max_retries=6)
def send_notification(self, notification_id: int) -> bool:
    """Send one e-mail; retried with exponential backoff, then parked as failed (dead letter)."""
    try:
        return notifications.send(notification_id)
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            notifications.mark_failed(notification_id, f"{type(exc).__name__}: {exc}")
            return False
        raise self.retry(exc=exc, countdown=min(5 * 2**self.request.retries, 600)) from exc


@shared_task
def sweep_notifications() -> dict[str, int]:
    """Notifications left pending past NOTIFY_STUCK_AFTER: tried once more, else dead letters."""
    from .services.dead_letters import sweep_stuck_notifications

    return sweep_stuck_notifications()


@shared_task
def compact_report_summary() -> int:
    """Fold the transparency summary's delta rows per group (reports.compact_summary)."""
    from . import reports

    return reports.compact_summary()


@shared_task
def send_digests() -> int:
    """The legal team's held (non-urgent) notifications, one digest per recipient."""
    return notifications.send_digests()

