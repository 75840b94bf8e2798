"""The legal request, its targets, attachments and messages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import compiled_save

from ..states import (
    DSA_INSTRUMENTS,
    OPEN_STATES,
    TERMINAL_STATES,
    DataCategory,
    Instrument,
    Lifecycle,
    ListedOffence,
    Status,
    TargetKind,
)
from .fields import CATEGORY_LIST_REGEX, CategoryListField

# The DSA instruments as plain strings in a fixed order (an index condition, written to a migration).
DSA_ORDERS: tuple[str, ...] = tuple(sorted(i.value for i in DSA_INSTRUMENTS))


class Channel(models.TextChoices):
    API = "api", _("REST API")
    WEB = "web", _("Web portal")
    ADMIN = "admin", _("Registered by the legal team")
    EMAIL = "email", _("E-mail")
    POST = "post", _("Post")
    FAX = "fax", _("Fax")
    DECENTRALISED_IT = "decentralised_it", _("Decentralised IT system (Reg. (EU) 2023/1543 Art. 19)")
    OTHER = "other", _("Other (registered by the legal team)")


class LegalRequest(models.Model):
    """A request from an authority. Field names follow the public contract (DESIGN.md §5).

    ``status`` is assigned only by ``requests_app.workflow.transition``; the admin shows it
    read-only.
    """

    # Unique through ``req_reference`` (Meta.constraints): one B-tree for equality and prefix.
    reference = models.CharField(max_length=32, editable=False)
    # No index of its own: ``req_authority_recent`` leads with it (the API list, the PROTECT check).
    authority = models.ForeignKey("accounts.Authority", on_delete=models.PROTECT, related_name="requests",
                                  db_index=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submitted_requests"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.API)
    # Colleagues of the submitting officer who may see a confidential request besides the
    # submitter and the authority's administrators (requests_app/access.py).
    delegates = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="delegated_requests")
    # The issuing authority's country, copied at submission so the legal team's queue can be
    # filtered and ordered by it with one index.
    country = models.CharField(max_length=2, blank=True)
    # No index of its own: ``queue_assignee_urgency`` leads with it (the queue's filters, PROTECT).
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_requests",
        db_index=False,
    )

    instrument = models.CharField(max_length=32, choices=Instrument.choices)
    lifecycle = models.CharField(max_length=16, choices=Lifecycle.choices)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.RECEIVED)
    resolution = models.CharField(max_length=64, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)

    data_categories = CategoryListField()
    data_from = models.DateTimeField(null=True, blank=True)
    data_to = models.DateTimeField(null=True, blank=True)
    case_reference = models.CharField(max_length=128)
    summary = models.TextField(blank=True)
    language = models.CharField(max_length=8, default="en")

    # Offence (Annex I section G). max_sentence_months is the statutory maximum.
    offence_description = models.TextField(blank=True)
    offence_legal_provisions = models.TextField(blank=True)
    max_sentence_months = models.IntegerField(null=True, blank=True)
    listed_offence = models.CharField(max_length=32, choices=ListedOffence.choices, blank=True)
    via_information_system = models.BooleanField(default=False)
    # Execution of a custodial sentence (Art. 5(4)(d)); null months = not a sentence execution.
    sentence_months = models.IntegerField(null=True, blank=True)
    sentence_in_absentia = models.BooleanField(null=True, blank=True)
    sentence_absconded = models.BooleanField(null=True, blank=True)

    emergency = models.BooleanField(default=False)
    emergency_reason = models.TextField(blank=True)

    # Prior validation by a judge, court or prosecutor (Art. 4(1)(b), 4(2)(b)).
    validation_authority_type = models.CharField(max_length=32, blank=True)
    validation_authority_name = models.CharField(max_length=200, blank=True)
    validation_reference = models.CharField(max_length=128, blank=True)
    validation_date = models.DateField(null=True, blank=True)

    enforcing_authority_notified = models.BooleanField(default=False)  # Art. 8(1)
    # The enforcing authority's contact where it was notified (Art. 8(1)): it receives a copy of
    # every Annex III sent on this request (Art. 10(5)-(6), 11(4)-(5)).
    enforcing_authority_email = models.EmailField(blank=True)
    art_8_2_exception = models.BooleanField(default=False)  # Art. 8(2)
    confidential = models.BooleanField(default=False)  # Art. 13(2)
    confidentiality_reason = models.TextField(blank=True)

    # Annex V/VI refer to the preservation order they follow.
    linked_reference = models.CharField(max_length=32, blank=True)
    # Indexed where set only (``req_linked_request``): most requests follow no order.
    linked_request = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups", db_index=False
    )
    dsa = models.JSONField(null=True, blank=True)
    # Optional certificate details the rules use when given (None / "" = not stated):
    # the addressee's member state (Annex I B), the person's residence (Art. 8(2)) and whether
    # the order names the user as a suspect (provider policy for non-EU authorities).
    addressee_country = models.CharField(max_length=2, blank=True)
    person_residence_country = models.CharField(max_length=2, blank=True)
    suspect_named = models.BooleanField(null=True, blank=True)
    # Art. 8(2)(a): where the offence was committed; Art. 7(2): the designated establishment
    # or legal representative did not react to the emergency order (requests_app/codec.py).
    offence_country = models.CharField(max_length=2, blank=True)
    designated_unresponsive = models.BooleanField(default=False)

    received_at = models.DateTimeField(default=timezone.now)
    # Registered by the legal team with a receipt time older than REGISTRATION_LATE_MARGIN: the
    # deadlines run from that stated time, so part of the period was already spent before registration.
    late_registration = models.BooleanField(default=False)
    due_at = models.DateTimeField(null=True, blank=True)
    deadline_explanation = models.TextField(blank=True)
    # When the queue shows the warn and breach badges (a share of the period, per lifecycle).
    warn_at = models.DateTimeField(null=True, blank=True)
    breach_at = models.DateTimeField(null=True, blank=True)
    # Earliest moment data may be released (end of the enforcing authority's window).
    hold_until = models.DateTimeField(null=True, blank=True)
    # The stored decision of the rules (route, findings, deadlines, rulebook version).
    decision = models.JSONField(null=True, blank=True)
    validation_attempts = models.PositiveIntegerField(default=0)
    # SHA-256 of the canonical submitted content: the authority's printable receipt.
    receipt_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    # First moves and counts the transparency report reads (requests_app.reports), kept by the
    # database itself from the rows that are the record: triggers on the audit trail's
    # status_changed events, on the targets and on applied Annex VI extensions (migration
    # 0025_transparency_report_facts), so that every writer, tests and imports included, keeps
    # them, at the audit events' own times. A full ``save`` leaves them out; only a status move
    # inside an audit batch stores the first times with its own UPDATE, at its event's time
    # (requests_app/report_facts.py, migration 0031), so that the trigger need not write the row again.
    # reports.stored_facts_mismatches() checks them against the audit trail.
    first_acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_produced_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_preserved_at = models.DateTimeField(null=True, blank=True, editable=False)
    preservation_extended = models.BooleanField(default=False, editable=False)
    target_count = models.PositiveIntegerField(default=0, editable=False)

    DERIVED_FIELDS = ("first_acknowledged_at", "first_produced_at", "first_preserved_at",
                      "preservation_extended", "target_count")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            # The API list: one authority's requests, newest first, keyset paginated.
            models.Index(fields=["authority", "-received_at", "-id"], name="req_authority_recent"),
            models.Index(fields=["status", "status_changed_at"], name="req_status_changed"),
            # The legal team's queue: emergencies first, then the nearest deadline; one index
            # per filter so every filtered page is an index range scan (performance.md §6). ASC
            # sorts NULLs last on PostgreSQL, matching the queue ordering (due_at ASC NULLS LAST).
            models.Index(F("emergency").desc(), F("due_at").asc(), "id", name="queue_urgency"),
            models.Index("status", F("emergency").desc(), F("due_at").asc(), "id",
                         name="queue_status_urgency"),
            models.Index("lifecycle", F("emergency").desc(), F("due_at").asc(), "id",
                         name="queue_lifecycle_urgency"),
            models.Index("instrument", F("emergency").desc(), F("due_at").asc(), "id",
                         name="queue_instrument_urgency"),
            models.Index("country", F("emergency").desc(), F("due_at").asc(), "id",
                         name="queue_country_urgency"),
            models.Index("assigned_to", F("emergency").desc(), F("due_at").asc(), "id",
                         name="queue_assignee_urgency"),
            # Prefix search in the queue (LIKE 'x%'), whatever the database's collation; the same
            # B-tree serves equality (varchar_pattern_ops has =), so there is no second one.
            models.Index(fields=["case_reference"], name="req_case_reference_prefix",
                         opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["linked_request"], condition=Q(linked_request__isnull=False),
                         name="req_linked_request"),
            # The transparency report (requests_app.reports): a period's requests, and its DSA
            # orders, read by index-only scans of what the figures need (PostgreSQL INCLUDE).
            models.Index(fields=["received_at"], name="req_report_facts",
                         include=["country", "instrument", "status", "emergency", "confidential",
                                  "linked_request", "data_categories", "target_count", "first_produced_at",
                                  "first_preserved_at", "preservation_extended"]),
            # Partial: only the DSA orders the report reads through it (reports._dsa_times spells
            # the same ``instrument IN``), so no other request's row versions are written into it.
            models.Index(fields=["instrument", "received_at"], name="req_report_dsa_times",
                         include=["country", "data_categories", "first_acknowledged_at", "first_produced_at"],
                         condition=Q(instrument__in=DSA_ORDERS)),
            # The dashboard (services/dashboard.py): the open requests by state with due today,
            # overdue and emergencies, one index-only pass; the oldest open emergency, the head
            # of its own index. Partial (closed requests, most of the table, are not in them); the
            # condition is spelt as dashboard.open_q() spells it, so that the planner matches it.
            models.Index(fields=["status", "emergency", "due_at"], condition=Q(status__in=OPEN_STATES),
                         name="req_open_dashboard"),
            models.Index(fields=["received_at", "id"], condition=Q(emergency=True, status__in=OPEN_STATES),
                         name="req_open_emergency"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(instrument__in=Instrument.values), name="req_instrument_valid"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="req_status_valid"),
            models.CheckConstraint(condition=Q(lifecycle__in=Lifecycle.values), name="req_lifecycle_valid"),
            models.CheckConstraint(
                condition=Q(data_categories__regex=CATEGORY_LIST_REGEX), name="req_categories_valid"
            ),
            models.CheckConstraint(
                condition=Q(listed_offence="") | Q(listed_offence__in=ListedOffence.values),
                name="req_listed_offence_valid",
            ),
            models.CheckConstraint(
                condition=Q(data_from__isnull=True) | Q(data_to__isnull=True) | Q(data_to__gte=F("data_from")),
                name="req_data_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(max_sentence_months__isnull=True) | Q(max_sentence_months__gte=0),
                name="req_max_sentence_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(sentence_months__isnull=True) | Q(sentence_months__gte=0),
                name="req_sentence_non_negative",
            ),
            models.CheckConstraint(condition=~Q(reference=""), name="req_reference_not_empty"),
            # The queue finds a reference whole or by its beginning (admin_views/queue.py, LIKE
            # 'x%'); ``varchar_pattern_ops`` has ``=`` too, so the unique index serves both and
            # Django's default pair (a unique index and its pattern_ops twin) is one index
            # (migration 0032). Nothing orders by reference in the database's collation.
            models.UniqueConstraint(fields=["reference"], name="req_reference", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A full save of a loaded row would write back the derived columns as they were read,
        # undoing what a trigger wrote since: update every other column instead.
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [f.name for f in self._meta.concrete_fields
                                       if not f.primary_key and f.name not in self.DERIVED_FIELDS]
        super().save(*args, **kwargs)

    def _do_update(self, *args: Any) -> bool:
        # The UPDATE of a move (update_fields) compiled once per connection and shape, not per save.
        return compiled_save.do_update(self, *args)

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL_STATES

    # The body's nested ``offence`` and ``validation`` of a stored request: requests_app/codec.py.


class Target(models.Model):
    """An identifier the request is about (Annex I section E)."""

    request = models.ForeignKey(LegalRequest, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=16, choices=TargetKind.choices)
    value = models.CharField(max_length=512)
    # IP addresses are meaningless without a time stamp (with its time zone).
    timestamp = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        # Prefix search in the queue; varchar_pattern_ops serves equality too (one B-tree, not two).
        indexes = [models.Index(fields=["value"], name="target_value_prefix", opclasses=["varchar_pattern_ops"])]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=TargetKind.values), name="target_kind_valid"),
            models.CheckConstraint(condition=~Q(value=""), name="target_value_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class AttachmentKind(models.TextChoices):
    ORDER = "order", _("Signed order")
    CLARIFICATION = "clarification", _("Clarification")
    OTHER = "other", _("Other document")


class Attachment(models.Model):
    """A PDF uploaded by the authority.

    Two files, both outside any web root under generated names: the original exactly as
    uploaded (evidence; encrypted at rest, with its SHA-256 and size; never served, exported
    only by the legal administrator) and the rewritten copy that passed the checks
    (``stored_name``, ``sha256``, ``size``: the only bytes ever served). ``removed`` lists
    what the rewrite took out; ``signatures`` is the verification of the original's
    signatures (signer, chain, time, valid or not and why).
    """

    request = models.ForeignKey(LegalRequest, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(max_length=16, choices=AttachmentKind.choices, default=AttachmentKind.ORDER)
    original_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=64, unique=True, editable=False)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    page_count = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=64, default="application/pdf")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    uploaded_at = models.DateTimeField(default=timezone.now)
    # The original, as uploaded (blank on rows from before originals were kept).
    original_stored_name = models.CharField(max_length=64, blank=True, default="", editable=False)
    original_sha256 = models.CharField(max_length=64, blank=True, default="")
    original_size = models.PositiveBigIntegerField(null=True, blank=True)
    removed = models.JSONField(default=dict, blank=True)
    signatures = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AttachmentKind.values), name="attachment_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"


class MessageKind(models.TextChoices):
    CLARIFICATION_ANSWER = "clarification_answer", _("Answer to a clarification request")
    TO_AUTHORITY = "to_authority", _("Message to the authority")
    FROM_AUTHORITY = "from_authority", _("Message from the authority")


class Message(models.Model):
    """A message between the authority and the legal team, visible to both sides."""

    request = models.ForeignKey(LegalRequest, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=32, choices=MessageKind.choices)
    body = models.TextField()
    # Fields the authority changed with a clarification answer (old and new values).
    changes = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MessageKind.values), name="message_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.request_id}"


class ReferenceCounter(models.Model):
    """Per-year counter for references on databases without sequences (SQLite)."""

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class IdempotencyRecord(models.Model):
    """The first result of a POST made with an ``Idempotency-Key`` header.

    UNIQUE(authority, key) makes 50 parallel POSTs with one key create one request: the
    losers wait on the unique index, then find the winner's row.
    """

    authority = models.ForeignKey("accounts.Authority", on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    # Null only inside the transaction that claims the key and creates the request.
    request = models.ForeignKey(LegalRequest, null=True, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["authority", "key"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.key} → {self.request_id}"


__all__ = [
    "Attachment",
    "AttachmentKind",
    "Channel",
    "DataCategory",
    "IdempotencyRecord",
    "LegalRequest",
    "Message",
    "MessageKind",
    "ReferenceCounter",
    "Target",
]
