"""The public mailbox (issue 12 items 3, 4): every message received, kept as evidence.

A message is stored raw and encrypted at rest (``stored_name`` under the private storage
root, Fernet of ``requests_app.crypto``) with the SHA-256 and size of the raw bytes as
received; what was read out of it (sender, subject, attachments) and its authenticity
verdicts are columns, written once by ``requests_app.mailbox.store`` and shown read-only in
the admin inbox. Only ``status`` and the handling columns change afterwards, through the
inbox services.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InboundStatus(models.TextChoices):
    NEW = "new", _("New")
    CONVERTED = "converted", _("Turned into a request")
    LINKED = "linked", _("Linked to an existing request")
    CLOSED = "closed", _("Closed")


class AckStatus(models.TextChoices):
    QUEUED = "queued", _("Acknowledgement queued")
    SKIPPED = "skipped", _("No acknowledgement")


class InboundMessage(models.Model):
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The SMTP envelope, as the forwarding server gave it ("" for the null sender <>).
    envelope_from = models.CharField(max_length=320, blank=True)
    envelope_to = models.JSONField(default=list, blank=True)
    peer = models.CharField(max_length=64, blank=True)
    # The raw message exactly as received: its digest, its size, the encrypted file.
    raw_sha256 = models.CharField(max_length=64, db_index=True)
    raw_size = models.PositiveBigIntegerField()
    stored_name = models.CharField(max_length=64, unique=True, editable=False)
    # Read from the headers (bounded; empty when the message could not be parsed).
    message_id = models.CharField(max_length=500, blank=True)
    from_address = models.CharField(max_length=320, blank=True, db_index=True)
    from_domain = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    # Authenticity, as data. dkim: one entry per DKIM-Signature {domain, selector, result, aligned, error}.
    dkim = models.JSONField(default=list, blank=True)
    dkim_aligned_pass = models.BooleanField(default=False)
    # From the topmost Authentication-Results of the trusted receiving server ("" when absent).
    auth_results_trusted = models.BooleanField(default=False)
    spf = models.CharField(max_length=16, blank=True)
    dmarc = models.CharField(max_length=16, blank=True)
    arc = models.CharField(max_length=16, blank=True)
    # The authority whose registered domains contain the From domain (a claim until authenticated).
    authority = models.ForeignKey("accounts.Authority", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="inbound_messages")
    # True only when the From domain is authenticated (DMARC pass or an aligned DKIM pass)
    # and belongs to a verified authority.
    authority_verified = models.BooleanField(default=False)
    emergency = models.BooleanField(default=False)
    # Stable codes of what is wrong or notable (requests_app.mailbox.store.FLAGS).
    flags = models.JSONField(default=list, blank=True)
    ack_status = models.CharField(max_length=16, choices=AckStatus.choices, default=AckStatus.SKIPPED)
    ack_reason = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=InboundStatus.choices, default=InboundStatus.NEW)
    request = models.ForeignKey("requests_app.LegalRequest", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="inbound_messages")
    close_reason = models.TextField(blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="inbound_status_received"),
            models.Index(fields=["from_address", "received_at"], name="inbound_sender_received"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=InboundStatus.values), name="inbound_status_valid"),
            models.CheckConstraint(condition=Q(ack_status__in=AckStatus.values), name="inbound_ack_status_valid"),
        ]

    def __str__(self) -> str:
        return f"Mail #{self.pk} from {self.from_address or self.envelope_from or '?'} ({self.status})"


class InboundAttachment(models.Model):
    """One attachment of an inbound message and the verdict of the PDF checks on it.

    The bytes stay inside the encrypted raw message (the evidence); this row records what
    the checks said.
    """

    message = models.ForeignKey(InboundMessage, on_delete=models.PROTECT, related_name="attachments")
    position = models.PositiveIntegerField()
    filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    accepted = models.BooleanField(default=False)
    # requests_app.uploads rejection code, or "not_checked" (over the attachment count limit).
    rejection_code = models.CharField(max_length=32, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["message", "position"]
        constraints = [
            models.UniqueConstraint(fields=["message", "position"], name="inbound_attachment_position"),
        ]

    def __str__(self) -> str:
        return f"{self.filename or 'attachment'} ({'accepted' if self.accepted else self.rejection_code})"
