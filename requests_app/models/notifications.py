"""E-mail notifications: one row per (outbox event, recipient), sent at most once."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    HELD = "held", _("Held for the digest or until quiet hours end")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed (dead letter)")
    DISCARDED = "discarded", _("Discarded")


class Notification(models.Model):
    # The idempotency key of the delivery: a redelivered task finds the row and skips it.
    key = models.CharField(max_length=200, unique=True)
    outbox = models.ForeignKey("outbox.OutboxMessage", on_delete=models.PROTECT, related_name="notifications")
    request = models.ForeignKey("requests_app.LegalRequest", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="notifications")
    event = models.CharField(max_length=64)
    recipient = models.EmailField()
    language = models.CharField(max_length=8, default="en")
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Held notifications go out in the recipient's digest at or after this time.
    deliver_after = models.DateTimeField(null=True, blank=True)
    urgent = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="notification_status")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=NotificationStatus.values), name="notification_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.recipient} ({self.status})"
