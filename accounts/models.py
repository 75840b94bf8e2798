"""Authorities, users and API tokens.

An authority is a public body vetted by the provider's legal team. The issuer's type and
country used by the rules always come from this record, never from a request body
(DESIGN.md §5): that is what defeats a request forged from a hacked police mailbox.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuthorityType(models.TextChoices):
    """Issuer types of Reg. (EU) 2023/1543 Art. 4 plus US/other bodies."""

    JUDGE = "judge", _("Judge")
    COURT = "court", _("Court")
    INVESTIGATING_JUDGE = "investigating_judge", _("Investigating judge")
    PROSECUTOR = "prosecutor", _("Public prosecutor")
    OTHER_COMPETENT = "other_competent", _("Other competent authority (police, investigators)")
    ADMINISTRATIVE = "administrative", _("Administrative authority")


class VettingStatus(models.TextChoices):
    PENDING = "pending", _("Pending vetting")
    VERIFIED = "verified", _("Verified")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")


class Authority(models.Model):
    name = models.CharField(max_length=200, unique=True)
    country = models.CharField(max_length=2, help_text=_("ISO 3166-1 alpha-2 code."))
    # Its region (a German Land "BY", a Spanish community "MD", a US state "CA": the codes of
    # the ``holidays`` package): its public holidays count in the periods we wait on it. Empty:
    # not known, every region's count (Reg. 1182/71 Art. 2(1), 3(4) [A]).
    region = models.CharField(
        max_length=32, blank=True, default="",
        help_text=_("Region whose public holidays the authority keeps (e.g. BY, MD, CA); empty if not known."))
    authority_type = models.CharField(max_length=32, choices=AuthorityType.choices)
    # Lower-case domains; sign-up and officer creation accept only addresses on these.
    email_domains = models.JSONField(default=list, blank=True)
    # From an official registry, verified by the legal team. Emergency call-backs use this
    # number and never one given in a request.
    switchboard_phone = models.CharField(max_length=32)
    vetting_status = models.CharField(
        max_length=16, choices=VettingStatus.choices, default=VettingStatus.PENDING
    )
    vetted_at = models.DateTimeField(null=True, blank=True)
    vetting_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "authorities"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(authority_type__in=AuthorityType.values),
                name="authority_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(vetting_status__in=VettingStatus.values),
                name="authority_vetting_status_valid",
            ),
            models.CheckConstraint(condition=Q(country__regex=r"^[A-Z]{2}$"), name="authority_country_iso"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"

    @property
    def is_verified(self) -> bool:
        return self.vetting_status == VettingStatus.VERIFIED

    def accepts_email(self, email: str) -> bool:
        domain = email.rsplit("@", 1)[-1].lower()
        return domain in {d.lower() for d in self.email_domains}


class ApprovalStatus(models.TextChoices):
    """An officer may see and make requests only once approved (by the legal team or an
    administrator of their own authority): a verified address alone is never enough."""

    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class PortalUserManager(UserManager["User"]):
    def create_user(self, username=None, email=None, password=None, **extra):  # type: ignore[override]
        email = self.normalize_email(email or username or "").lower()
        return super().create_user(username=email, email=email, password=password, **extra)

    def create_superuser(self, username=None, email=None, password=None, **extra):  # type: ignore[override]
        email = self.normalize_email(email or username or "").lower()
        return super().create_superuser(username=email, email=email, password=password, **extra)


class User(AbstractUser):
    """An officer of one authority, or (with no authority) a member of the provider's staff."""

    email = models.EmailField(unique=True)
    authority = models.ForeignKey(
        Authority, null=True, blank=True, on_delete=models.PROTECT, related_name="officers"
    )
    language = models.CharField(max_length=8, default="en")
    # The zone this person reads times in (accounts/zones.py); empty: the default for them.
    time_zone = models.CharField(max_length=64, blank=True, default="")
    approval_status = models.CharField(max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    approved_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    # An authority administrator approves and deactivates the officers of their own authority.
    is_authority_admin = models.BooleanField(default=False)

    objects = PortalUserManager()  # type: ignore[misc]

    class Meta:
        constraints = [
            # An officer can never be staff of the provider: authority users and the legal
            # team are disjoint populations.
            models.CheckConstraint(
                condition=Q(authority__isnull=True) | Q(is_staff=False, is_superuser=False),
                name="officer_is_not_staff",
            ),
        ]

    @property
    def is_officer(self) -> bool:
        return self.authority_id is not None

    @property
    def is_approved_officer(self) -> bool:
        """Active, approved, and of a verified authority (accounts.standing, the one check)."""
        from .standing import in_good_standing

        return in_good_standing(self)


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", _("Pending vetting")
    REGISTERED = "registered", _("Authority registered")
    REJECTED = "rejected", _("Rejected")


class AuthorityRegistrationRequest(models.Model):
    """Someone whose address is on no registered authority's domain asks for the authority to
    be registered. The legal team vets it out of band (official registry, call-back) before
    creating the Authority; nothing here grants access by itself."""

    authority_name = models.CharField(max_length=200)
    country = models.CharField(max_length=2)
    authority_type = models.CharField(max_length=32, choices=AuthorityType.choices)
    email_domain = models.CharField(max_length=200)
    contact_email = models.EmailField()
    switchboard_phone = models.CharField(max_length=32)
    official_source = models.CharField(max_length=500, help_text=_("Where the authority's details can be checked."))
    note = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=RegistrationStatus.choices, default=RegistrationStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.authority_name} ({self.country}) – {self.status}"


class ApiToken(models.Model):
    """A bearer token for the REST API. Only the SHA-256 of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters of the token, shown in lists so an officer can tell tokens apart.
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    def is_usable(self, at=None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and self.expires_at > at


class ChangeStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPLIED = "applied", _("Approved and applied")
    REFUSED = "refused", _("Refused")


class ChangeKind(models.TextChoices):
    """What a root-of-trust change touches (accounts.root_of_trust)."""

    AUTHORITY = "authority", _("Authority record")
    OFFICER = "officer", _("Officer's authority or administrator flag")
    REGISTRATION = "registration", _("Registration of a new authority")


class RootOfTrustChange(models.Model):
    """A change of the data everything else trusts (an authority's switchboard number, e-mail
    domains, type, country, vetting status; an officer's authority and administrator flag),
    proposed by one member of the legal team and applied only when a second approves exactly
    these values (four-eyes principle; NIS2 Directive (EU) 2022/2555 Art. 21(2)(i))."""

    kind = models.CharField(max_length=16, choices=ChangeKind.choices)
    authority = models.ForeignKey(Authority, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    officer = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    registration = models.ForeignKey(AuthorityRegistrationRequest, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    # The proposed values (field → value) and the values they replace, as seen when proposed.
    changes = models.JSONField()
    previous = models.JSONField(default=dict)
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=ChangeStatus.choices, default=ChangeStatus.PROPOSED)
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-proposed_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ChangeKind.values), name="rot_change_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=ChangeStatus.values), name="rot_change_status_valid"),
            # The second person is never the proposer.
            models.CheckConstraint(condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("proposed_by")),
                                   name="rot_change_second_person"),
        ]

    def __str__(self) -> str:
        target = self.authority or self.officer or self.registration
        return f"{self.get_kind_display()} #{self.pk}: {target} – {self.status}"
