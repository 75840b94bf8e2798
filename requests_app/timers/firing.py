"""Firing due timers, each in its own transaction; retries and dead letters.

``fire_due`` (the beat task ``fire_due_timers``) takes the due timers in order of
``due_at`` and fires each with ``fire``: the row is locked (``SKIP LOCKED``: a concurrent
sweep leaves it alone), the handler runs in a savepoint, and the row is marked fired in the
same transaction as the handler's effects, so a redelivered or concurrent sweep never fires
a timer twice. A handler that raises is rolled back; the failure is counted on the row and
retried with exponential backoff, then parked as a dead letter (``dead_at``) after
``TIMER_MAX_ATTEMPTS`` tries. One failing timer never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit import trail as audit
from portal.id_chunks import id_chunks

from ..models.timers import Timer
from ..permissions import require
from .handlers import handler_for

log = logging.getLogger(__name__)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: doubling from TIMER_RETRY_SECONDS."""
    seconds = settings.TIMER_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.TIMER_RETRY_MAX_SECONDS))


def _record_failure(timer: Timer, exc: BaseException, now: datetime) -> None:
    timer.attempts += 1
    timer.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if timer.attempts >= settings.TIMER_MAX_ATTEMPTS:
        timer.dead_at, timer.next_attempt_at = now, None
        audit.record("timer.dead_lettered", request=timer.request, obj=timer, authority_id=timer.request.authority_id,
                     data={"kind": timer.kind, "attempts": timer.attempts, "error": timer.last_error})
    else:
        timer.next_attempt_at = now + backoff(timer.attempts)
    timer.save(update_fields=["attempts", "last_error", "dead_at", "next_attempt_at"])


def fire(timer_id: int, *, now: datetime | None = None) -> bool:
    """Claim and fire one open timer; False when it is not open (another sweep fired it) or
    its handler failed (counted on the row, retried later)."""
    now = now or timezone.now()
    with transaction.atomic():
        timer = (Timer.objects.select_for_update(of=("self",), skip_locked=True).select_related("request")
                 .filter(pk=timer_id, fired_at__isnull=True, cancelled_at__isnull=True, dead_at__isnull=True)
                 .first())
        if timer is None:
            return False
        try:
            with transaction.atomic():
                handler_for(timer.kind)(timer)
                timer.fired_at = now
                timer.save(update_fields=["fired_at"])
                audit.record("timer.fired", request=timer.request, obj=timer,
                             authority_id=timer.request.authority_id,
                             data={"kind": timer.kind, "due_at": timer.due_at})
        except Exception as exc:
            log.exception("timer %s (%s) failed", timer.pk, timer.kind)
            timer.fired_at = None
            timer.request.refresh_from_db()
            _record_failure(timer, exc, now)
            return False
    return True


def due_ids(now: datetime, limit: int = 500) -> list[int]:
    return list(
        Timer.objects.filter(due_at__lte=now, fired_at__isnull=True, cancelled_at__isnull=True, dead_at__isnull=True)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def fire_due(limit: int = 500) -> int:
    """Fire every due timer, oldest first; the number fired."""
    now = timezone.now()
    fired = 0
    for timer_id in due_ids(now, limit):
        try:
            fired += fire(timer_id, now=now)
        except Exception as exc:  # the database itself failed under this one (its session may be gone)
            log.exception("timer %s could not be fired", timer_id)
            _count_failure(timer_id, exc, now)
    return fired


def _count_failure(timer_id: int, exc: BaseException, now: datetime) -> None:
    """Count a failure that took the transaction (or the session) down with it, on a fresh
    session, so that it is retried with backoff and parked in the end like any other; if the
    database is still down, the next sweep tries the timer again."""
    if not transaction.get_connection().in_atomic_block:
        transaction.get_connection().close_if_unusable_or_obsolete()
    try:
        with transaction.atomic():
            timer = (Timer.objects.select_for_update(of=("self",)).select_related("request")
                     .filter(pk=timer_id, fired_at__isnull=True, cancelled_at__isnull=True, dead_at__isnull=True)
                     .first())
            if timer is not None:
                _record_failure(timer, exc, now)
    except Exception:
        log.exception("the failure of timer %s could not be recorded", timer_id)


# --- dead letters (the legal admin, through services/dead_letters.py) ---------------------

def _dead(ids: Iterable[int]) -> list[Timer]:
    rows = (Timer.objects.select_for_update(of=("self",)).select_related("request")
            .filter(dead_at__isnull=False, fired_at__isnull=True, cancelled_at__isnull=True))
    return [row for chunk in id_chunks(ids) for row in rows.filter(pk__in=chunk)]


def _update(rows: list[Timer], **values: Any) -> None:
    for chunk in id_chunks(row.pk for row in rows):
        Timer.objects.filter(pk__in=chunk).update(**values)


def _audit(actor: Any, rows: list[Timer], action: str) -> None:
    for row in rows:
        audit.record(action, actor=actor, request=row.request, obj=row, authority_id=row.request.authority_id,
                     data={"kind": row.kind, "attempts": row.attempts, "last_error": row.last_error})


def dead_letter_retry(*, actor: Any, ids: Iterable[int]) -> int:
    """Put dead timers back: they fire at the next sweep, with a fresh count of tries."""
    require(actor, "administer")
    with transaction.atomic():
        rows = _dead(ids)
        _audit(actor, rows, "timer.retried")
        _update(rows, dead_at=None, next_attempt_at=None, attempts=0)
    return len(rows)


def dead_letter_discard(*, actor: Any, ids: Iterable[int]) -> int:
    """Give up on dead timers: they are cancelled and never fire."""
    require(actor, "administer")
    with transaction.atomic():
        rows = _dead(ids)
        _audit(actor, rows, "timer.discarded")
        _update(rows, cancelled_at=timezone.now())
    return len(rows)
