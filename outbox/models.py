"""The transactional outbox (DESIGN.md §4.4); the timers are in ``requests_app/models/timers.py``.

An outbox row is written in the same transaction as the change that needs follow-up work;
work reaches Celery only after commit, and a beat sweeper re-sends whatever is still
pending, so a broker outage or a crash between commit and publish loses nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import compiled_save


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent to the queue")
    FAILED = "failed", _("Failed")
    DISCARDED = "discarded", _("Discarded")


class OutboxMessage(models.Model):
    topic = models.CharField(max_length=64)
    request = models.ForeignKey(
        "requests_app.LegalRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="outbox"
    )
    payload = models.JSONField(default=dict, blank=True)
    # Optional: makes an effect happen once per key even if the code asks twice (unique among the
    # rows that have one: ``outbox_dedup_key``).
    dedup_key = models.CharField(max_length=200, null=True, blank=True)
    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        db_table = "requests_app_outboxmessage"  # the table predates the outbox app (moved, not copied)
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["available_at", "id"],
                condition=Q(status="pending"),
                name="outbox_pending_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OutboxStatus.values), name="outbox_status_valid"),
            # Partial: most rows have no key, and a unique index on every row took an entry for
            # each of their row versions (the insert and the "sent" update: four per submission).
            # NULLs never conflicted, and ``dedup_key = x`` implies the condition (migration 0004).
            models.UniqueConstraint(fields=["dedup_key"], condition=Q(dedup_key__isnull=False),
                                    name="outbox_dedup_key"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk} ({self.status})"

    def _do_insert(self, *args: Any) -> Any:
        # The INSERT of each enqueued row compiled once per connection, not per row.
        return compiled_save.do_insert(self, *args)


class OutboxAttachment(models.Model):
    """A file an e-mail of this outbox row must carry (e.g. the Annex III PDF sent to an
    enforcing authority that has no portal account), stored with the row in the same
    transaction, so the e-mail sent later, or again after a failure, carries exactly these
    bytes. Never produced data: those are delivered inside the portal only (DESIGN.md §1)."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField()
    # The SHA-256 recorded in the audit event when the row was written; checked before sending.
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.size} bytes) of outbox #{self.message_id}"
