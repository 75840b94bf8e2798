"""The legal admin's handling of work that could not be done: outbox rows, e-mails and timers
that failed (a dead-letter queue, like e-CODEX's). Retry puts them back in the queue; discard
gives up on them. Both are audited per row. Timers are handled by ``requests_app.timers``.

Nothing may be lost silently: a notification whose task ran out of retries while the
database was down could not even be marked failed and stayed ``pending`` for ever. The beat
task ``sweep_notifications`` (``sweep_stuck_notifications``) finds notifications pending
for longer than ``NOTIFY_STUCK_AFTER`` (beyond the whole retry chain of ``send_notification``),
tries each once more and parks the ones that still fail as ``failed``: the dead letters the
admin lists, with retry and discard.

The emergency alert is the exception (``notifications.PERSISTENT_EVENTS``): while its request
is open it is never parked. The same sweeper tries it again whenever its next try
(``deliver_after``, capped backoff) has come, until an SMTP server accepts it; meanwhile the
admin shows it as not yet delivered (``undelivered_emergency_alerts``: the notifications
admin, the outbox admin, the admin index and the request's page)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit import trail as audit
from outbox.models import OutboxMessage, OutboxStatus
from portal.id_chunks import id_chunks

from .. import timers
from ..models import Notification, NotificationStatus
from ..permissions import require

OUTBOX_RETRYABLE = (OutboxStatus.FAILED, OutboxStatus.DISCARDED, OutboxStatus.PENDING)
NOTIFICATION_RETRYABLE = (NotificationStatus.FAILED, NotificationStatus.DISCARDED)
FINAL = ("sent", "discarded")

log = logging.getLogger(__name__)


def _locked(model: Any, ids: Iterable[int], **filters: Any) -> list[Any]:
    rows = model.objects.select_for_update(of=("self",)).select_related("request")
    return [row for chunk in id_chunks(ids) for row in rows.filter(pk__in=chunk, **filters)]


def _update(model: Any, rows: list[Any], **values: Any) -> None:
    for chunk in id_chunks(row.pk for row in rows):
        model.objects.filter(pk__in=chunk).update(**values)


def _audit(actor: Any, rows: list[Any], action: str) -> None:
    for row in rows:
        audit.record(action, actor=actor, request=row.request, obj=row, data={"status": row.status})


def outbox_retry(*, actor: Any, ids: Iterable[int]) -> int:
    require(actor, "administer")
    with transaction.atomic():
        rows = _locked(OutboxMessage, ids, status__in=OUTBOX_RETRYABLE)
        _audit(actor, rows, "outboxmessage.retried")
        _update(OutboxMessage, rows, status=OutboxStatus.PENDING, available_at=timezone.now(), attempts=0)
    return len(rows)


def notification_retry(*, actor: Any, ids: Iterable[int]) -> int:
    from ..tasks import send_notification

    require(actor, "administer")
    with transaction.atomic():
        rows = _locked(Notification, ids, status__in=NOTIFICATION_RETRYABLE)
        _audit(actor, rows, "notification.retried")
        _update(Notification, rows, status=NotificationStatus.PENDING, last_error="")
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
        _update(model, rows, status="discarded")
    return len(rows)


def stuck_notification_ids(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Notifications still ``pending`` past the bound (their task and its retries are gone),
    and emergency alerts being retried, whose next try has come."""
    from ..notifications import PERSISTENT_EVENTS

    now = now or timezone.now()
    cutoff = now - settings.NOTIFY_STUCK_AFTER
    due = Q(deliver_after__isnull=True) | Q(deliver_after__lte=now)
    retrying_alert = Q(event__in=PERSISTENT_EVENTS, attempts__gte=1)
    return list(Notification.objects.filter(due, Q(created_at__lt=cutoff) | retrying_alert,
                                            status=NotificationStatus.PENDING)
                .order_by("-urgent", "created_at", "pk").values_list("pk", flat=True)[:limit])


def sweep_stuck_notifications(now: datetime | None = None) -> dict[str, int]:
    """One more try for each stuck notification; what still fails becomes a dead letter,
    except an emergency alert of an open request, which waits for its next try.

    If the database itself is down the task fails and the next beat tick does it again: a
    row leaves ``pending`` only as ``sent`` or ``failed``.
    """
    from .. import notifications

    counts = {"sent": 0, "parked": 0, "retrying": 0}
    for notification_id in stuck_notification_ids(now):
        try:
            if notifications.send(notification_id):
                counts["sent"] += 1
        except Exception as exc:
            parked = notifications.mark_failed(
                notification_id, f"still pending after {settings.NOTIFY_STUCK_AFTER}; parked by the sweeper "
                                 f"after one more try: {type(exc).__name__}: {exc}")
            counts["parked" if parked else "retrying"] += 1
    if counts["sent"] or counts["parked"]:
        log.warning("stuck notifications: %(sent)d sent, %(parked)d parked as dead letters", counts)
    if counts["retrying"]:
        log.error("%(retrying)d emergency alert(s) not yet delivered; retrying", counts)
    else:
        del counts["retrying"]  # the task's result keeps its former shape when nothing is retrying
    return counts


def undelivered_emergency_alerts(request: Any = None, limit: int = 50) -> list[Notification]:
    """Emergency alerts tried and not yet delivered (pending, at least one failed try), oldest
    first: what the admin warns about, with attempts, last error and next try."""
    from ..notifications import PERSISTENT_EVENTS

    rows = Notification.objects.filter(event__in=PERSISTENT_EVENTS, status=NotificationStatus.PENDING,
                                       attempts__gte=1)
    if request is not None:
        rows = rows.filter(request=request)
    return list(rows.select_related("request").only(
        "event", "recipient", "attempts", "last_error", "deliver_after", "created_at", "request__reference",
        "request__id").order_by("created_at", "pk")[:limit])


def delivery_state(row: Notification, now: datetime | None = None) -> str:
    """One line on a notification's delivery for the admin ("not yet delivered, 3 attempts, ...")."""
    from ..notifications import PERSISTENT_EVENTS

    if row.status != NotificationStatus.PENDING or not row.attempts:
        return ""
    what = "emergency alert not yet delivered" if row.event in PERSISTENT_EVENTS else "not yet delivered"
    text = f"{what}, {row.attempts} attempt{'s' if row.attempts != 1 else ''}"
    if row.deliver_after:
        text += f", next try {row.deliver_after.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    return text


def timer_retry(*, actor: Any, ids: Iterable[int]) -> int:
    """Dead timers fire again at the next sweep (audited ``timer.retried``)."""
    return timers.dead_letter_retry(actor=actor, ids=ids)


def timer_discard(*, actor: Any, ids: Iterable[int]) -> int:
    """Dead timers are cancelled for good (audited ``timer.discarded``)."""
    return timers.dead_letter_discard(actor=actor, ids=ids)
