"""Input of the engine: plain frozen dataclasses built by the Django side from a request.

Field names follow the request body of DESIGN.md §5. The issuer's type and country come
from the verified authority record, never from the request body. All datetimes are aware;
the engine converts them to UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Issuer:
    """The verified authority that sent the request."""

    authority_type: str  # judge, court, investigating_judge, prosecutor, other_competent, ...
    country: str  # ISO 3166-1 alpha-2, upper case
    # The authority's region (a German Land, a Spanish autonomous community, a US state), as
    # the ``holidays`` package codes it; None: not known. Its public holidays count where we
    # wait on it (Reg. 1182/71 Art. 2(1), 3(4); Fed. R. Crim. P. 45(a)(6)). [A]
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Validation:
    """Annex I Section J / Annex II Section H: the authority that validated the order."""

    authority_type: str
    authority_name: str = ""
    reference: str = ""
    date: date | None = None


@dataclass(frozen=True, slots=True)
class SentenceExecution:
    """Execution of a custodial sentence or detention order (Art. 5(3), 5(4)(d), 6(3))."""

    sentence_months: int
    in_absentia: bool
    absconded: bool


@dataclass(frozen=True, slots=True)
class Offence:
    """Annex I Section G: nature and legal classification of the offence."""

    description: str = ""
    legal_provisions: str = ""
    max_sentence_months: int | None = None
    listed_offence: str | None = None  # vocab.LISTED_OFFENCES
    via_information_system: bool = False
    sentence_execution: SentenceExecution | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """An identifier of the data sought (Annex I Section E)."""

    kind: str  # vocab.TARGET_KINDS
    value: str
    timestamp: datetime | None = None  # required (with time zone) for ip_address


@dataclass(frozen=True, slots=True)
class DsaDetails:
    """DSA Art. 9(2) / 10(2) elements."""

    legal_basis: str = ""
    statement_of_reasons: str = ""
    redress_information: str = ""
    territorial_scope: str = ""
    content_urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LinkedRequest:
    """The stored request that ``linked_reference`` points to (for Annex V/VI, 2703(f) renewals)."""

    reference: str
    instrument: str
    received_at: datetime
    status: str
    preservation_expires_at: datetime | None = None
    extensions_count: int = 0
    confirmed: bool = False  # an Annex V confirmation has been received


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """Everything the engine knows about one request.

    ``addressee_country``, ``person_residence_country`` and ``suspect_named`` are optional
    additions to the contract: ``None`` means "not stated", and the rules say what that costs.
    """

    instrument: str
    issuer: Issuer
    received_at: datetime
    data_categories: frozenset[str] = frozenset()
    targets: tuple[Target, ...] = ()
    data_from: datetime | None = None
    data_to: datetime | None = None
    case_reference: str = ""
    summary: str = ""
    offence: Offence | None = None
    emergency: bool = False
    emergency_reason: str = ""
    validation: Validation | None = None
    enforcing_authority_notified: bool = False
    art_8_2_exception: bool = False
    confidential: bool = False
    confidentiality_reason: str = ""
    linked: LinkedRequest | None = None
    language: str = ""
    dsa: DsaDetails | None = None
    # Optional additions (None = not stated).
    addressee_country: str | None = None  # Annex I Section B: None = our DE/LR
    person_residence_country: str | None = None  # Art. 8(2)(b), where the certificate says
    suspect_named: bool | None = None  # the order confirms the user is a suspect (policy)
    offence_country: str | None = None  # Art. 8(2)(a): where the offence was committed
    # Art. 7(2): the order states that our designated establishment / legal representative
    # failed to react to an emergency order within the deadline.
    designated_unresponsive: bool = False
