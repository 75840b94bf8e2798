"""The vocabularies of the public contract (DESIGN.md §5) and their legal meaning.

Values are the contract: add members freely, rename none.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Instrument(models.TextChoices):
    """The legal instrument a request is made under."""

    # Reg. (EU) 2023/1543 Art. 5, Annex I: European Production Order Certificate.
    EPOC = "epoc", _("European Production Order (EPOC)")
    # Reg. (EU) 2023/1543 Art. 6, Annex II: European Preservation Order Certificate.
    EPOC_PR = "epoc_pr", _("European Preservation Order (EPOC-PR)")
    # Reg. (EU) 2023/1543 Art. 11(1), Annex VI: one 30-day extension of a preservation.
    PRESERVATION_EXTENSION = "preservation_extension", _("Extension of preservation (Annex VI)")
    # Reg. (EU) 2023/1543 Art. 11(1), Annex V: production request follows a preservation.
    PRODUCTION_CONFIRMATION = "production_confirmation", _("Confirmation of production request (Annex V)")
    # Reg. (EU) 2022/2065 (DSA) Art. 9: order to act against illegal content.
    DSA_REMOVAL_ORDER = "dsa_removal_order", _("DSA order to act against illegal content (Art. 9)")
    # Reg. (EU) 2022/2065 (DSA) Art. 10: order to provide information.
    DSA_INFORMATION_ORDER = "dsa_information_order", _("DSA order to provide information (Art. 10)")
    # Voluntary disclosure in an emergency (18 U.S.C. § 2702(c)(4); provider policy).
    EMERGENCY_DISCLOSURE = "emergency_disclosure", _("Emergency disclosure request")
    # 18 U.S.C. § 2703(c)(2): basic subscriber information.
    US_SUBPOENA = "us_subpoena", _("US subpoena")
    # 18 U.S.C. § 2703(d): non-content records.
    US_COURT_ORDER = "us_court_order", _("US court order (2703(d))")
    # 18 U.S.C. § 2703(a)/(b): content.
    US_SEARCH_WARRANT = "us_search_warrant", _("US search warrant")
    # 18 U.S.C. § 2703(f): preservation for 90 days, renewable once by 90 days.
    US_PRESERVATION = "us_preservation", _("US preservation request (2703(f))")
    # An order under the law of the provider's own establishment state or another route.
    NATIONAL_ORDER = "national_order", _("National order")


class DataCategory(models.TextChoices):
    """Data categories of Reg. (EU) 2023/1543 Art. 3(9)-(12)."""

    SUBSCRIBER = "subscriber", _("Subscriber data")
    IDENTIFICATION = "identification", _("Data requested for the sole purpose of identifying the user")
    TRAFFIC = "traffic", _("Traffic data")
    CONTENT = "content", _("Content data")


class TargetKind(models.TextChoices):
    USERNAME = "username", _("Username")
    USER_ID = "user_id", _("User ID")
    PHONE = "phone", _("Phone number (E.164)")
    EMAIL = "email", _("E-mail address")
    IP_ADDRESS = "ip_address", _("IP address with time stamp")
    CHANNEL_URL = "channel_url", _("Channel URL")
    MESSAGE_URL = "message_url", _("Message URL")


class ListedOffence(models.TextChoices):
    """Offences of Reg. (EU) 2023/1543 Art. 5(4)(b)-(c) that allow traffic/content orders."""

    NON_CASH_PAYMENT_FRAUD = "non_cash_payment_fraud", _("Fraud with non-cash means of payment (Dir. 2019/713)")
    CHILD_SEXUAL_ABUSE = "child_sexual_abuse", _("Child sexual abuse (Dir. 2011/93/EU)")
    INFORMATION_SYSTEM_ATTACK = "information_system_attack", _("Attacks on information systems (Dir. 2013/40/EU)")
    TERRORISM = "terrorism", _("Terrorism (Dir. (EU) 2017/541)")


class Status(models.TextChoices):
    """Where a request stands. What the API shows (DESIGN.md §5)."""

    RECEIVED = "received", _("Received")  # stored, waiting for validation
    VALIDATING = "validating", _("Validating")  # a worker is checking it
    CLARIFICATION_REQUESTED = "clarification_requested", _("Clarification requested")  # Annex III
    IN_REVIEW = "in_review", _("In legal review")
    VERIFICATION_HOLD = "verification_hold", _("Held for verification")  # emergency call-back
    AWAITING_ENFORCING_AUTHORITY = "awaiting_enforcing_authority", _(
        "Awaiting the enforcing authority"  # Art. 10(2): 10 days (96 h in emergencies)
    )
    APPROVED = "approved", _("Approved for disclosure")
    PRESERVING = "preserving", _("Data preserved")  # Art. 11
    PRODUCED = "produced", _("Data produced")
    NOT_EXECUTED = "not_executed", _("Not executed")  # Annex III sent
    OBJECTION_FILED = "objection_filed", _("Objection filed")
    REFUSED = "refused", _("Refused")
    REROUTED = "rerouted", _("Rerouted")  # wrong route (e.g. domestic order, Denmark, MLA)
    WITHDRAWN = "withdrawn", _("Withdrawn")
    RELEASED = "released", _("Preservation released")
    CLOSED = "closed", _("Closed")


# States in which nothing more will happen to a request. ``produced`` is not among them: the
# request stays open until it is closed (an enforcing authority may still object within 96
# hours of an emergency production, Art. 10(4); the package is downloadable for a while).
TERMINAL_STATES = frozenset(
    {
        Status.NOT_EXECUTED,
        Status.REFUSED,
        Status.REROUTED,
        Status.WITHDRAWN,
        Status.RELEASED,
        Status.CLOSED,
    }
)

# The states a request can still move out of, as a sorted tuple: the partial indexes of the
# dashboard (requests_app.models.LegalRequest.Meta) and the queries they serve spell the
# same ``status IN (…)`` list, so that PostgreSQL proves the index applies.
OPEN_STATES: tuple[str, ...] = tuple(sorted(s.value for s in Status if s not in TERMINAL_STATES))


class Lifecycle(models.TextChoices):
    """Each lifecycle has its own transition table (requests_app.workflow)."""

    PRODUCTION = "production", _("Production order")
    PRESERVATION = "preservation", _("Preservation order")
    DSA = "dsa", _("DSA order")
    US_PROCESS = "us_process", _("US legal process")
    EMERGENCY = "emergency", _("Voluntary emergency disclosure")


LIFECYCLE_OF_INSTRUMENT: dict[str, str] = {
    Instrument.EPOC: Lifecycle.PRODUCTION,
    # Annex V is a follow-up of a preservation order: it changes how long data are preserved.
    Instrument.PRODUCTION_CONFIRMATION: Lifecycle.PRESERVATION,
    Instrument.NATIONAL_ORDER: Lifecycle.PRODUCTION,
    Instrument.EPOC_PR: Lifecycle.PRESERVATION,
    Instrument.PRESERVATION_EXTENSION: Lifecycle.PRESERVATION,
    Instrument.US_PRESERVATION: Lifecycle.PRESERVATION,
    Instrument.DSA_REMOVAL_ORDER: Lifecycle.DSA,
    Instrument.DSA_INFORMATION_ORDER: Lifecycle.DSA,
    Instrument.US_SUBPOENA: Lifecycle.US_PROCESS,
    Instrument.US_COURT_ORDER: Lifecycle.US_PROCESS,
    Instrument.US_SEARCH_WARRANT: Lifecycle.US_PROCESS,
    Instrument.EMERGENCY_DISCLOSURE: Lifecycle.EMERGENCY,
}

# Instruments that refer to an earlier request through linked_reference.
LINKED_INSTRUMENTS = frozenset({Instrument.PRESERVATION_EXTENSION, Instrument.PRODUCTION_CONFIRMATION})
DSA_INSTRUMENTS = frozenset({Instrument.DSA_REMOVAL_ORDER, Instrument.DSA_INFORMATION_ORDER})
