"""Legal review: internal notes, the four-eyes approval, emergency call-backs, Annex III
records and the encrypted response package.

Four eyes is enforced twice: ``review_approve`` refuses an approver who prepared the
response, and the database refuses an ``Approval`` whose approver is its preparer and a
released ``ResponsePackage`` without an approval (CHECK constraints).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..rules import vocab as v


class InternalNote(models.Model):
    """A note of the legal team. Never shown to authorities (not in any API serializer)."""

    request = models.ForeignKey("requests_app.LegalRequest", on_delete=models.PROTECT, related_name="internal_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note by {self.author_id} on {self.request_id}"


class CallbackOutcome(models.TextChoices):
    CONFIRMED = "confirmed", _("Request confirmed by the authority")
    NOT_CONFIRMED = "not_confirmed", _("The authority does not know this request")
    NO_ANSWER = "no_answer", _("No answer; try again")


class CallbackVerification(models.Model):
    """A call to the switchboard number of the authority's registry record (never a number
    from the request), made before an emergency request is worked (security.md §1.6)."""

    request = models.ForeignKey("requests_app.LegalRequest", on_delete=models.PROTECT, related_name="callbacks")
    phone_called = models.CharField(max_length=32)
    called_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    called_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=16, choices=CallbackOutcome.choices)
    person_reached = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["called_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=CallbackOutcome.values), name="callback_outcome_valid"),
            models.CheckConstraint(condition=~Q(phone_called=""), name="callback_phone_not_empty"),
        ]

    def __str__(self) -> str:
        return f"call-back {self.outcome} on {self.request_id}"


class Approval(models.Model):
    """The second person's approval of a response prepared by a first (four eyes)."""

    request = models.ForeignKey("requests_app.LegalRequest", on_delete=models.PROTECT, related_name="approvals")
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["approved_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(prepared_by=F("approved_by")), name="approval_four_eyes"),
        ]

    def __str__(self) -> str:
        return f"approval of {self.request_id} by {self.approved_by_id}"


class AnnexIIIReason(models.TextChoices):
    """Annex III section D of Reg. (EU) 2023/1543: the one reason vocabulary
    (``rules.vocab.ANNEX_III_REASONS``), with the labels of the PDF and the e-mails."""

    INCOMPLETE = v.AIII_INCOMPLETE, _("the certificate is incomplete")
    MANIFEST_ERRORS = v.AIII_MANIFEST_ERRORS, _("the certificate contains manifest errors")
    INSUFFICIENT_INFORMATION = v.AIII_INSUFFICIENT_INFORMATION, _(
        "the certificate does not contain sufficient information")
    DATA_NOT_STORED = v.AIII_DATA_NOT_STORED, _(
        "the data were not stored by or on behalf of the provider at the time of receipt")
    DE_FACTO_IMPOSSIBILITY = v.AIII_DE_FACTO_IMPOSSIBILITY, _(
        "other de facto impossibility not attributable to the provider")
    NOT_ISSUED_PER_ART_4 = v.AIII_NOT_ISSUED_PER_ART_4, _(
        "the order was not issued or validated by an authority as specified in Art. 4")
    OFFENCE_OUTSIDE_ART_5_4 = v.AIII_OFFENCE_OUTSIDE_ART_5_4, _(
        "the order for traffic or content data concerns an offence not within Art. 5(4)")
    PROVIDER_NOT_COVERED = v.AIII_PROVIDER_NOT_COVERED, _("the provider is not covered by the Regulation")
    IMMUNITIES_PRIVILEGES = v.AIII_IMMUNITIES_PRIVILEGES, _(
        "the data are protected by immunities or privileges (Art. 10(5), 11(4))")
    THIRD_COUNTRY_CONFLICT = v.AIII_THIRD_COUNTRY_CONFLICT, _(
        "conflicting obligations under the law of a third country (Art. 17)")
    OTHER = v.AIII_OTHER, _("other reasons")


class AnnexIIIKind(models.TextChoices):
    CLARIFICATION = "clarification", _("Request for clarification")
    NON_EXECUTION = "non_execution", _("Impossibility to execute")
    REFUSAL = "refusal", _("Refusal on grounds")
    REROUTE = "reroute", _("Rerouting to another channel")


# The kinds that decide the request (non-execution, refusal, rerouting): drafted and signed by
# one member of the legal team, sent only after a second one approved the exact draft.
DECIDING_KINDS = (AnnexIIIKind.NON_EXECUTION, AnnexIIIKind.REFUSAL, AnnexIIIKind.REROUTE)


class AnnexIIIOrigin(models.TextChoices):
    """Why an Annex III was drafted. Every deciding origin is signed by one member of the legal
    team and approved by a second (four eyes); the origin only sets the resolution the request
    closes with. ``AUTOMATIC_VALIDATION`` is the one form no person signs: the clarification
    the validation task asks for from the engine's findings (Art. 10(6), 11; it decides
    nothing, so four eyes do not apply), attributed as such on the form."""

    LEGAL_TEAM = "", _("The legal team's assessment")
    # Reg. (EU) 2023/1543 Art. 10(2), 12: the enforcing authority raised a ground for refusal.
    ENFORCING_AUTHORITY = "enforcing_authority", _("Ground for refusal raised by the enforcing authority")
    # The authority's registered switchboard did not confirm an emergency request.
    CALLBACK_NOT_CONFIRMED = "callback_not_confirmed", _("Not confirmed by the authority's switchboard")
    # Reg. (EU) 2023/1543 Art. 10(6), 11: the automatic validation asks for clarification.
    AUTOMATIC_VALIDATION = "automatic_validation", _("Drafted automatically from the order as received")


class AnnexIII(models.Model):
    """The structured content of Annex III of Reg. (EU) 2023/1543 sent to the issuing
    authority: reasons per identifier (section D), conflicting obligations (E), the
    clarification asked (F) and what was preserved (G)."""

    request = models.ForeignKey("requests_app.LegalRequest", on_delete=models.PROTECT, related_name="annex_iii")
    kind = models.CharField(max_length=16, choices=AnnexIIIKind.choices)
    # [{"identifier": "targets[0]" or value label, "reasons": ["incomplete", ...], "explanation": "..."}]
    reasons = models.JSONField(default=list)
    conflicting_obligations = models.TextField(blank=True)
    clarification_asked = models.TextField(blank=True)
    data_preserved = models.BooleanField(default=False)
    preserved_until = models.DateTimeField(null=True, blank=True)
    # Section G of a clarification (Art. 10(6)): per target and data category, whether the
    # order as received lets the data be identified and preserved (Art. 10(9)):
    # [{"target": 0 | None, "identifier", "data_category": None | "traffic", "possible", "why"}].
    identification = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)
    # The person of the legal team who decided and signed it (never an automatic actor), and
    # what the rules engine had drafted (the findings' reasons), kept to show what was changed.
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    signed_at = models.DateTimeField(null=True, blank=True)
    engine_proposal = models.JSONField(default=dict, blank=True)
    # What the signed form decides, per data category and per target (rules.proposal.decided_verdicts).
    decided = models.JSONField(default=dict, blank=True)
    # Rerouting: the channel or authority the issuing authority should use instead.
    route_to = models.TextField(blank=True)
    # A partial non-execution: only the categories/targets of ``decided`` marked not allowed are
    # not executed; the rest of the request continues to production.
    partial = models.BooleanField(default=False)
    origin = models.CharField(max_length=32, choices=AnnexIIIOrigin.choices, blank=True, default="")
    # Four eyes on a deciding form (``DECIDING_KINDS``): the second person who approved the exact
    # draft, and when it was sent to the authority (a clarification is sent at once). A draft
    # replaced by a newer one before approval is superseded and never sent.
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "Annex III form"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AnnexIIIKind.values), name="annex_iii_kind_valid"),
            # Four eyes in the database: the approver of a draft is never the person who signed it.
            models.CheckConstraint(condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("signed_by")),
                                   name="annex_iii_four_eyes"),
            # A deciding form is sent only once approved.
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(kind=AnnexIIIKind.CLARIFICATION) | Q(approved_at__isnull=False),
                name="annex_iii_sent_approved"),
        ]

    def __str__(self) -> str:
        return f"Annex III ({self.kind}) for {self.request_id}"


class ResponsePackage(models.Model):
    """The data produced for a request, encrypted at rest, downloadable in the portal only."""

    request = models.ForeignKey("requests_app.LegalRequest", on_delete=models.PROTECT, related_name="responses")
    cover_note = models.TextField(blank=True)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    approval = models.OneToOneField(Approval, null=True, blank=True, on_delete=models.PROTECT)
    released_at = models.DateTimeField(null=True, blank=True)
    available_until = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # No data leaves without a second person's approval (four eyes, in the database).
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | Q(approval__isnull=False), name="response_released_approved"
            ),
        ]

    def __str__(self) -> str:
        return f"response for {self.request_id}"

    def is_downloadable(self, at=None) -> bool:
        at = at or timezone.now()
        return (
            self.released_at is not None
            and self.purged_at is None
            and (self.available_until is None or at < self.available_until)
        )


class ResponseFile(models.Model):
    package = models.ForeignKey(ResponsePackage, on_delete=models.PROTECT, related_name="files")
    original_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=64, unique=True)
    sha256 = models.CharField(max_length=64, help_text=_("SHA-256 of the plaintext"))
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100, default="application/octet-stream")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name
