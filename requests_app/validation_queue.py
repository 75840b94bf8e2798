"""The validation queue: the requests in ``received`` are the queue, a doorbell says a drain is
on its way.

A new request is written in ``received`` in the submission's transaction, so the row itself is
the durable record that it waits for validation, as an outbox row would be (DESIGN.md §4: work
is enqueued only after commit; nothing is lost). After the commit the web rings a doorbell: a
Redis key set only if absent (``SET NX`` with a time to live). Whoever sets it publishes one
``drain_validations`` task; a submission that finds the bell already rung publishes nothing,
because a drain is running or on its way and will find its request. The drain validates the
waiting requests one by one (emergencies first, then in order of arrival), each in its own
transaction through ``services.validation`` (row lock, exactly-once claim and decision), taking
the next with ``FOR UPDATE SKIP LOCKED`` so that drains of different bells never wait on each
other's request. Under load one task, one broker message and one publish serve many requests
instead of one each (issue 9 item 5: the Celery framework cost per task, the web's publish and
the outbox row's INSERT and "sent" UPDATE were a quarter of the CPU per request).

Why no request is left behind:

- The drain releases its bell and only then looks once more for a waiting request. A
  submission that committed before that look is found by it; one that committed after it rings
  a released bell and gets a drain of its own. If the look finds one, the drain takes the bell
  again, or leaves the request to whoever took it first.
- A bell whose drain never ran (the publish failed: the bell is released at once; the message
  was lost with a Redis restart: the bell went with it; the worker was killed: the message is
  redelivered) expires after ``VALIDATION_BELL_TTL_SECONDS``.
- A request that waits longer than ``OUTBOX_RESEND_AFTER`` (the bell could not be rung: Redis
  down during the submission) is rung for by the beat task ``ring_for_waiting_requests`` every
  few seconds, as the outbox sweeper re-sends its rows; ``sweep_stuck_requests`` stays the last
  safety net, one task per request.
- A request whose validation raises is skipped for the rest of that drain (no drain loops on
  it); its attempts are counted by the validation service as for any redelivery, and after
  ``MAX_ATTEMPTS`` it goes to a person.

A drain validates at most ``VALIDATION_DRAIN_BATCH`` requests, then hands over to a new task at
the end of the queue, so timers, notifications and sweeps queued behind it are not starved and
no drain nears the task time limit. ``VALIDATION_DRAINERS`` bells (one per worker child by
default) let that many drains run at once; a request rings the bell of its id modulo that.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction
from django.utils import timezone

from . import notifications
from .api.throttling import redis_client
from .models import LegalRequest
from .states import Status

log = logging.getLogger(__name__)


def _bell_key(bell: int) -> str:
    # Per database: a test database created again under the same name restarts its ids, and two
    # portals may share one Redis.
    return f"validation-bell:{connection.settings_dict['NAME']}:{bell}"


def _bell_of(request_id: int) -> int:
    return int(request_id) % max(1, settings.VALIDATION_DRAINERS)


def _hold(bell: int) -> bool:
    """Ring ``bell``: True when it was free (the caller owes a drain), False when already rung."""
    backend = caches["default"]  # the backend itself: ``cache`` is a proxy, never a RedisCache
    if isinstance(backend, RedisCache):
        # One SET NX EX through the shared client (Django's add() builds a redis-py client per call).
        key = backend.make_key(_bell_key(bell))
        return bool(redis_client(backend, key).set(key, 1, nx=True, ex=settings.VALIDATION_BELL_TTL_SECONDS))
    return bool(backend.add(_bell_key(bell), 1, settings.VALIDATION_BELL_TTL_SECONDS))


def _free(bell: int) -> None:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        key = backend.make_key(_bell_key(bell))
        redis_client(backend, key).delete(key)
    else:
        backend.delete(_bell_key(bell))


def release(bell: int) -> None:
    try:
        _free(bell)
    except Exception as exc:  # Redis down: the bell expires by itself
        log.warning("validation bell %s not released (%s: %s); it expires in %ss", bell, type(exc).__name__, exc,
                    settings.VALIDATION_BELL_TTL_SECONDS)


def release_all() -> None:
    """Every bell released (a test's clean start; an operator after moving the worker count)."""
    for bell in range(max(1, settings.VALIDATION_DRAINERS)):
        release(bell)


def _publish_drain(bell: int) -> None:
    from . import tasks  # tasks import the validation service, which imports this module's callers

    args = (bell,)
    # argsrepr/kwargsrepr as Celery writes them (see apps._by_id): no generic saferepr per publish.
    options: dict[str, Any] = {"args": args, "argsrepr": repr(args), "kwargsrepr": "{}"}
    tasks.drain_validations.apply_async(**options)


def ring(request_id: int) -> bool:
    """After the commit of a request in ``received``: make sure a drain will validate it (the
    bell of its id). True when this call published the drain; never raises."""
    return ring_bell(_bell_of(request_id), for_request=request_id)


def ring_bell(bell: int, *, for_request: int | None = None) -> bool:
    """Ring ``bell`` (a submission, a drain's hand-over, the beat): True when this call published
    its drain, False when a drain was already on its way or the bell could not be rung. Never
    raises: with the cache or the broker down, the beat rings later for what waits."""
    what = f"request {for_request}" if for_request is not None else f"bell {bell}"
    try:
        if not _hold(bell):
            return False
    except Exception as exc:  # the cache (Redis) is down: ring_for_waiting_requests rings later
        log.warning("validation bell not rung for %s (%s: %s)", what, type(exc).__name__, exc)
        return False
    try:
        _publish_drain(bell)
    except Exception as exc:  # the broker is down or refused: free the bell for the next ring
        log.warning("validation drain for %s not published (%s: %s)", what, type(exc).__name__, exc)
        release(bell)
        return False
    return True


def ring_after_commit(request_id: int) -> None:
    """Ring for ``request_id`` once the caller's transaction commits (at once outside one)."""
    transaction.on_commit(lambda: ring(request_id), robust=True)


# A request waiting that no drain holds: a row another drain has locked (it is validating it now)
# does not count, or a drain that found nothing to take would ring itself again and again until
# the other commits. Autocommit: the lock is released as the statement ends.
_WAITING_SQL = ('SELECT 1 FROM "requests_app_legalrequest" WHERE "status" = %s AND NOT ("id" = ANY(%s)) '
                'LIMIT 1 FOR UPDATE SKIP LOCKED')
_WAITING_SINCE_SQL = ('SELECT 1 FROM "requests_app_legalrequest" WHERE "status" = %s AND NOT ("id" = ANY(%s)) '
                      'AND "status_changed_at" <= %s LIMIT 1 FOR UPDATE SKIP LOCKED')


def _waiting(*, skip: set[int], older_than: timedelta | None = None) -> bool:
    """Whether a request waits in ``received`` that no drain holds (not one of ``skip``; in
    ``received`` for at least ``older_than``: the drain's own look has no age, so that a web
    host's clock ahead of the worker's cannot hide a request from it)."""
    since = None if older_than is None else timezone.now() - older_than
    if connection.vendor != "postgresql":  # embedded mode: one worker thread, no row locks
        rows = LegalRequest.objects.filter(status=Status.RECEIVED).exclude(pk__in=skip)
        return (rows if since is None else rows.filter(status_changed_at__lte=since)).exists()
    with connection.cursor() as cursor:
        if since is None:
            cursor.execute(_WAITING_SQL, [Status.RECEIVED, sorted(skip)])
        else:
            cursor.execute(_WAITING_SINCE_SQL, [Status.RECEIVED, sorted(skip), since])
        return cursor.fetchone() is not None


def _linger(skip: set[int]) -> bool:
    """The queue was empty: wait ``VALIDATION_DRAIN_LINGER_SECONDS`` still holding the bell, then
    look; True when a request arrived meanwhile. A submission that comes in during the wait finds
    the bell rung and publishes nothing, so under load one drain serves a stream of submissions
    instead of a task being published, received and dispatched for each (issue 9 item 5); a
    request arriving in the wait is validated at its end, sooner than a new task would start."""
    seconds = settings.VALIDATION_DRAIN_LINGER_SECONDS
    if seconds <= 0:
        return False
    time.sleep(seconds)
    return _waiting(skip=skip)


def drain(bell: int, *, validate_next: Callable[[set[int]], int | None] | None = None) -> int:
    """The body of ``drain_validations``: validate waiting requests until none is left (or the
    batch is done and a new drain is handed the rest); the number validated or found decided.

    ``validate_next(skip)``: validate the next waiting request not in ``skip``, return its id,
    None when none waits; it raises ``PendingValidationFailed`` naming the request it failed on."""
    from .services.validation import PendingValidationFailed, validate_next_pending

    validate_next = validate_next or (lambda skip: validate_next_pending(skip=skip))
    skip: set[int] = set()
    taken = 0
    lingered = False
    while True:
        while taken < settings.VALIDATION_DRAIN_BATCH:
            try:
                request_id = validate_next(skip)
            except PendingValidationFailed as failed:
                # Logged with its traceback; counted as an attempt by the service. Not taken
                # again by this drain: a later one (the beat's ring) tries it again.
                log.exception("validation of request %s failed; left for a later drain", failed.request_id)
                skip.add(failed.request_id)
                continue
            if request_id is None:
                # The queue is empty: the e-mails held for a batch go now, not after the wait.
                notifications.send_held(force=True)
                if lingered or not taken or not _linger(skip):
                    break
                lingered = True  # once per empty queue: a drain that keeps finding work keeps going
                continue
            lingered = False
            taken += 1
            notifications.send_held()  # a full batch, or one whose first e-mail waited long enough
        else:  # the batch is done: a fresh task at the end of the queue takes the rest
            release(bell)
            if _waiting(skip=skip) and ring_bell(bell):
                log.info("validation drain %s handed over after %d requests", bell, taken)
            return taken
        release(bell)
        # Released, then looked: a request committed before this look is seen here; one committed
        # after it found the bell free and rang it.
        if not _waiting(skip=skip):
            return taken
        try:
            if not _hold(bell):
                return taken  # another submission rang it: its drain takes what waits
        except Exception:  # Redis went down: the beat rings once it is back
            log.warning("validation bell %s not taken again; the beat rings for what waits", bell, exc_info=True)
            return taken


def ring_for_waiting_requests() -> int:
    """The beat's safety net (every few seconds): when a request has waited in ``received``
    longer than ``OUTBOX_RESEND_AFTER`` (its ring was lost: Redis or the broker down at its
    commit), ring every bell; a bell already rung has its drain on the way. The number of drains
    published."""
    if not _waiting(skip=set(), older_than=settings.OUTBOX_RESEND_AFTER):
        return 0
    return sum(ring_bell(bell) for bell in range(max(1, settings.VALIDATION_DRAINERS)))
