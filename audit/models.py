"""The append-only, hash-chained audit trail (DESIGN.md §4.5, security.md §1.7).

Rows are written only by ``audit.trail.record``. On PostgreSQL triggers refuse UPDATE and
DELETE on the events and the seals, and the application role is granted INSERT and SELECT
only (docs/operations.md). There are deliberately no foreign keys: an audit row must never be
changed or removed by a cascade.

The trail is many short chains, not one: the events of a request form the chain ``r:<id>``,
the other events one of ``AUDIT_GLOBAL_CHAINS`` shards ``g:<n>``. Appending locks only the
head row of its own chain, so two requests never wait for each other. The beat task
``seal_audit`` hashes the heads that moved into the seal chain (``AuditSeal``), which binds all
chains together; external anchors sign the newest seal.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

LEGACY_CHAIN = ""  # the single chain written before the trail was split (position = ``seq``)

# The states whose first entry acknowledges a request to its authority (requests_app.reports).
REPORT_ACKNOWLEDGED = ["in_review", "clarification_requested", "not_executed", "rerouted", "verification_hold",
                       "awaiting_enforcing_authority", "preserving"]


class AuditEvent(models.Model):
    # A global number, from a database sequence (no lock): increasing along each chain, with gaps
    # across chains (a rolled-back transaction spends one). The order of the whole trail.
    seq = models.BigIntegerField(unique=True)
    # The chain and the position in it ("" and null for the rows of the single legacy chain).
    chain = models.CharField(max_length=64, default=LEGACY_CHAIN, db_default=LEGACY_CHAIN, blank=True)
    chain_seq = models.BigIntegerField(null=True, blank=True)
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
            # The transparency report's first moves per request (requests_app.reports): index-only
            # probes and scans instead of reading the trail. ``REPORT_ACKNOWLEDGED`` is
            # ``requests_app.reports.ACKNOWLEDGED`` (a test keeps them equal; audit imports no app).
            models.Index(fields=["request_id", "occurred_at"], name="audit_first_acknowledged",
                         condition=Q(action="request.status_changed", data__to__in=REPORT_ACKNOWLEDGED)),
            models.Index(fields=["request_id", "occurred_at"], name="audit_first_produced",
                         condition=Q(action="request.status_changed", data__to="produced")),
            models.Index(fields=["request_id", "occurred_at"], name="audit_first_preserving",
                         condition=Q(action="request.status_changed", data__to="preserving")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["chain", "chain_seq"], name="audit_chain_position",
                                    condition=Q(chain_seq__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"

    @property
    def position(self) -> int:
        """The event's place in its chain (1, 2, ...)."""
        return self.seq if self.chain_seq is None else self.chain_seq


class AuditChain(models.Model):
    """The newest link of one chain. Locking it serialises appends to that chain only."""

    key = models.CharField(max_length=64, primary_key=True)
    seq = models.BigIntegerField(default=0)  # the position of the chain's last event
    hash = models.CharField(max_length=64)
    sealed_seq = models.BigIntegerField(default=0)  # the position the newest seal holds
    # The time of the chain's last event (NULL on heads written before audit 0005): an event
    # whose time was read before the lock (audit.trail.instant) keeps it if not earlier.
    last_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "audit_chain"
        indexes = [models.Index(fields=["key"], condition=Q(seq__gt=F("sealed_seq")), name="audit_chain_unsealed")]

    def __str__(self) -> str:
        return f"audit chain {self.key or 'legacy'} #{self.seq}"


class AuditSeal(models.Model):
    """One link of the seal chain: the heads of the chains that moved since the previous seal.

    ``hash = SHA-256(prev_hash || canonical JSON of seq, sealed_at, heads)``, heads being
    ``[[chain, position, hash], ...]`` sorted by chain. Append-only like the events.
    """

    seq = models.BigIntegerField(unique=True)
    sealed_at = models.DateTimeField(default=timezone.now)
    heads = models.JSONField(default=list)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        db_table = "audit_seal"
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"audit seal #{self.seq} ({len(self.heads)} chains)"
