"""Celery tasks. Thin: each loads by id and calls a service; all are idempotent because
with ``acks_late`` a message can be delivered twice (DESIGN.md §4.4)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import audit, outbox
from .models import LegalRequest, Timer
from .services.validation import request_validate
from .states import Status

log = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=300,
             max_retries=8)
def validate_request(request_id: int) -> None:
    request_validate(request_id=request_id)


@shared_task
def sweep_outbox() -> int:
    """Publish outbox rows whose after-commit publish failed or was lost."""
    return outbox.sweep()


@shared_task
def sweep_stuck_requests() -> int:
    """Re-queue validation of requests that sat in received/validating for too long."""
    cutoff = timezone.now() - settings.STUCK_REQUEST_AFTER
    stuck = list(
        LegalRequest.objects.filter(
            status__in=[Status.RECEIVED, Status.VALIDATING], status_changed_at__lt=cutoff
        ).values_list("pk", flat=True)[:500]
    )
    for request_id in stuck:
        with transaction.atomic():
            outbox.enqueue("request.validate", request=LegalRequest(pk=request_id), payload={"sweep": True})
    if stuck:
        log.info("re-queued validation of %d stuck requests", len(stuck))
    return len(stuck)


@shared_task
def fire_due_timers() -> int:
    """Mark due timers as fired, exactly once each (the row claim makes it idempotent)."""
    fired = 0
    now = timezone.now()
    due = Timer.objects.filter(due_at__lte=now, fired_at__isnull=True, cancelled_at__isnull=True)
    for timer_id in list(due.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            claimed = Timer.objects.filter(pk=timer_id, fired_at__isnull=True).update(fired_at=now)
            if not claimed:
                continue
            timer = Timer.objects.select_related("request").get(pk=timer_id)
            audit.record("timer.fired", request=timer.request, obj=timer,
                         authority_id=timer.request.authority_id,
                         data={"kind": timer.kind, "due_at": timer.due_at})
            fired += 1
    return fired
