"""The append-only, hash-chained audit trail (DESIGN.md §4.5, security.md §1.7).

Rows are written only by ``audit.trail.record``. On PostgreSQL triggers refuse
UPDATE, DELETE and TRUNCATE, and the application role is granted INSERT and SELECT only
(docs/operations.md). There are deliberately no foreign keys: an audit row must never be
changed or removed by a cascade.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=64)
    actor_id = models.BigIntegerField(null=True, blank=True)
    # Who acted, as a label that survives the user's deletion ("system", an e-mail, ...).
    actor_label = models.CharField(max_length=254)
    authority_id = models.BigIntegerField(null=True, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    request_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        db_table = "requests_app_auditevent"  # the table predates the audit app (moved, not copied)
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["request_id", "seq"], name="audit_request_seq"),
            models.Index(fields=["action", "occurred_at"], name="audit_action_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"


class AuditChainHead(models.Model):
    """One row holding the newest link; locking it serialises appends to the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "requests_app_auditchainhead"

    def __str__(self) -> str:
        return f"audit head #{self.seq}"
