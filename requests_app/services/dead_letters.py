"""The legal admin's handling of work that could not be done: outbox rows, e-mails and timers
that failed (a dead-letter queue, like e-CODEX's). Retry puts them back in the queue; discard
gives up on them. Both are audited per row. Timers are handled by ``requests_app.timers``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import audit, timers
from ..models import Notification, NotificationStatus, OutboxMessage, OutboxStatus
from ..permissions import require

OUTBOX_RETRYABLE = (OutboxStatus.FAILED, OutboxStatus.DISCARDED, OutboxStatus.PENDING)
NOTIFICATION_RETRYABLE = (NotificationStatus.FAILED, NotificationStatus.DISCARDED)
FINAL = ("sent", "discarded")


def _locked(model: Any, ids: Iterable[int], **filters: Any) -> list[Any]:
    return list(model.objects.select_for_update(of=("self",)).select_related("request").filter(pk__in=list(ids),
                                                                                                 **filters))


def _audit(actor: Any, rows: list[Any], action: str) -> None:
    for row in rows:
        audit.record(action, actor=actor, request=row.request, obj=row, data={"status": row.status})


def outbox_retry(*, actor: Any, ids: Iterable[int]) -> int:
    require(actor, "administer")
    with transaction.atomic():
        rows = _locked(OutboxMessage, ids, status__in=OUTBOX_RETRYABLE)
        _audit(actor, rows, "outboxmessage.retried")
        OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=OutboxStatus.PENDING, available_at=timezone.now(), attempts=0)
    return len(rows)


def notification_retry(*, actor: Any, ids: Iterable[int]) -> int:
    from ..tasks import send_notification

    require(actor, "administer")
    with transaction.atomic():
        rows = _locked(Notification, ids, status__in=NOTIFICATION_RETRYABLE)
        _audit(actor, rows, "notification.retried")
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(status=NotificationStatus.PENDING,
                                                                         last_error="")
        for row in rows:
            transaction.on_commit(_sender(send_notification, row.pk), robust=True)
    return len(rows)


def _sender(task: Any, pk: int) -> Any:
    return lambda: task.apply_async(args=(pk,))


def discard(*, actor: Any, model: type[OutboxMessage] | type[Notification], ids: Iterable[int]) -> int:
    require(actor, "administer")
    with transaction.atomic():
        rows = [r for r in _locked(model, ids) if r.status not in FINAL]
        _audit(actor, rows, f"{model._meta.model_name}.discarded")
        model.objects.filter(pk__in=[r.pk for r in rows]).update(status="discarded")
    return len(rows)


def timer_retry(*, actor: Any, ids: Iterable[int]) -> int:
    """Dead timers fire again at the next sweep (audited ``timer.retried``)."""
    return timers.dead_letter_retry(actor=actor, ids=ids)


def timer_discard(*, actor: Any, ids: Iterable[int]) -> int:
    """Dead timers are cancelled for good (audited ``timer.discarded``)."""
    return timers.dead_letter_discard(actor=actor, ids=ids)
