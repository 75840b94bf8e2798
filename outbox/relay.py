"""Putting work on the outbox and relaying it to Celery.

``enqueue`` writes a row in the caller's transaction and publishes it after commit. If the
broker is down at that moment the row simply stays ``pending``; the beat task
``sweep_outbox`` publishes it later with exponential backoff. Consumers are idempotent, so
a row published twice (relay and sweeper racing) does no harm.

The outbox knows no consumer: each app registers the handler of its topics
(``register("request.validate", handler)``, or a prefix ending in ``.`` for a family of
topics) from its ``AppConfig.ready``. A row whose topic has no handler is not published: it
stays pending and is retried with backoff like a broker outage, then fails visibly.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from portal import compiled

from .models import OutboxAttachment, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12


Handler = Callable[[OutboxMessage], object]


@dataclass(frozen=True)
class Attachment:
    """A file to store with an outbox row (``OutboxAttachment``)."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()
_handlers: dict[str, Handler] = {}


def register(topic: str, handler: Handler) -> None:
    """Make ``handler(message)`` the consumer of ``topic`` (exact), or of every topic that
    starts with ``topic`` when it ends in ``.`` (``"notify."``). Registering again replaces."""
    _handlers[topic] = handler


def registered_topics() -> list[str]:
    return sorted(_handlers)


class UnknownTopic(LookupError):
    pass


def _task_for(topic: str) -> Handler:
    """The consumer of a topic (it hands the row to a Celery task), called with the outbox row."""
    if topic in _handlers:
        return _handlers[topic]
    prefixes = [p for p in _handlers if p.endswith(".") and topic.startswith(p)]
    if not prefixes:
        raise UnknownTopic(f"no consumer registered for outbox topic {topic!r}")
    return _handlers[max(prefixes, key=len)]


def enqueue(topic: str, *, request: Any = None, payload: dict[str, Any] | None = None,
            dedup_key: str | None = None, attachments: list[Attachment] | None = None,
            consumed: bool = False) -> OutboxMessage:
    """Write a row in the caller's transaction, published after its commit.

    ``consumed``: the caller consumes the row itself in the same transaction (the validation task
    planning its own receipt: ``notifications.enqueue``), so it is written as sent, once, and not
    published: the record of the event, without a publish, a "sent" UPDATE or a commit of its own."""
    if consumed:
        if attachments:
            raise ValueError("a consumed outbox row carries no attachments (its consumer has them already)")
        message = compiled.create(OutboxMessage(topic=topic, request=request, payload=payload or {},
                                                dedup_key=dedup_key, status=OutboxStatus.SENT, attempts=1,
                                                sent_at=timezone.now()))
        return message
    # The INSERT compiled once per connection (the ORM compiled it for every row; issue 9 item 5).
    message = compiled.create(OutboxMessage(topic=topic, request=request, payload=payload or {}, dedup_key=dedup_key))
    if attachments:
        # Written with the row, in the caller's transaction: the e-mail carries these bytes or none.
        OutboxAttachment.objects.bulk_create([
            OutboxAttachment(message=message, filename=a.filename, content_type=a.content_type, content=a.content,
                             sha256=hashlib.sha256(a.content).hexdigest(), size=len(a.content))
            for a in attachments])
    # Just committed, so the row is known: publish it without reading it back.
    transaction.on_commit(lambda: publish(message.pk, message=message), robust=True)
    return message


def publish(message_id: int, *, message: OutboxMessage | None = None) -> bool:
    """Send one pending row to the queue; True when it was sent."""
    if message is None:
        message = OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.PENDING).first()
    if message is None:
        return False
    try:
        _task_for(message.topic)(message)
    except Exception as exc:  # the broker is down or refused: keep the row for the sweeper
        log.warning("outbox %s not published: %s", message_id, exc)
        _record_failure(message, exc)
        return False
    if getattr(message, "_marked_sent", False):  # by its consumer, in the consumer's transaction
        return True
    _mark_sent(message_id, attempts=message.attempts + 1)
    return True


def mark_sent_with(message: OutboxMessage) -> None:
    """For a consumer that ``publish`` runs in this process (the validation task sending its own
    receipt): mark ``message`` sent inside the consumer's transaction, so the mark commits with
    the consumer's first writes instead of in a transaction of its own after it (issue 9 item 5:
    one commit fewer), and ``publish`` does not write it again. If that transaction rolls back,
    so does the mark, and ``publish`` records the failure as for any handler that raises."""
    _mark_sent(message.pk, attempts=message.attempts + 1)
    # Only once committed (at once outside a transaction): a rolled-back mark is not trusted.
    transaction.on_commit(lambda: setattr(message, "_marked_sent", True))


# One fixed statement per published row (web and worker side), not compiled by the ORM each time.
_MARK_SENT_SQL = ('UPDATE "requests_app_outboxmessage" SET "status" = %s, "sent_at" = %s, "attempts" = %s '
                  'WHERE "id" = %s AND "status" = %s')


def _mark_sent(message_id: int, *, attempts: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_MARK_SENT_SQL, [OutboxStatus.SENT, timezone.now(), attempts, message_id, OutboxStatus.PENDING])


def _record_failure(message: OutboxMessage, exc: Exception) -> None:
    attempts = message.attempts + 1
    backoff = timedelta(seconds=min(2**attempts, 600))
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.PENDING).update(
        attempts=attempts,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
        available_at=timezone.now() + backoff,
        status=OutboxStatus.FAILED if attempts >= MAX_ATTEMPTS else OutboxStatus.PENDING,
    )


def due_message_ids(limit: int = 200) -> list[int]:
    """Pending rows old enough that their after-commit publish must have failed or been lost."""
    cutoff = timezone.now() - settings.OUTBOX_RESEND_AFTER
    qs = OutboxMessage.objects.filter(status=OutboxStatus.PENDING, available_at__lte=cutoff).order_by(
        "available_at", "id"
    )
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("pk", flat=True)[:limit])
        # Claimed for this sweep: a second sweeper running now skips the locked rows and, once
        # this commits, finds them not due again before OUTBOX_RESEND_AFTER (a sweeper that dies
        # before publishing leaves them for the next sweep).
        OutboxMessage.objects.filter(pk__in=ids).update(available_at=timezone.now())
        return ids


def sweep() -> int:
    sent = 0
    for message_id in due_message_ids():
        sent += publish(message_id)
    return sent
