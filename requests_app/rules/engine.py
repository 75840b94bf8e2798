"""The entry point: ``evaluate(facts, config) -> Decision``.

Precedence (docs/rules.md): the instrument picks the rule family; inside a family the
first rerouting finding wins, then an order-wide refusal, then refusals of every requested
category, then clarifications, then partial refusals. Pure: no ORM, no settings, no clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import lru_cache

from . import vocab as v
from .catalogue import finding
from .config import ProviderConfig
from .deadlines import as_utc
from .draft import Draft
from .dsa import evaluate_dsa
from .eevidence import evaluate_epoc, production_deadlines
from .model import LinkedRequest, RequestFacts
from .policy import evaluate_national_order
from .preservation import evaluate_preservation
from .result import Deadline, Decision
from .us import evaluate_emergency_disclosure, evaluate_us

DEFAULT_CONFIG = ProviderConfig()

_FAMILIES: dict[str, Callable[[Draft], None]] = {
    v.EPOC: evaluate_epoc,
    **dict.fromkeys(v.EEVIDENCE_INSTRUMENTS - {v.EPOC}, evaluate_preservation),
    **dict.fromkeys(v.DSA_INSTRUMENTS, evaluate_dsa),
    **dict.fromkeys(v.US_INSTRUMENTS, evaluate_us),
    v.EMERGENCY_DISCLOSURE: evaluate_emergency_disclosure,
    v.NATIONAL_ORDER: evaluate_national_order,
}


def evaluate(facts: RequestFacts, config: ProviderConfig = DEFAULT_CONFIG) -> Decision:
    """Decide one request. Same input, same decision; never reads the clock."""
    return _run(normalise(facts), config, None)


def recompute_deadlines(
    facts: RequestFacts,
    config: ProviderConfig = DEFAULT_CONFIG,
    *,
    period_start: datetime | None = None,
) -> tuple[Deadline, ...]:
    """The deadlines of ``facts`` under ``config`` (e.g. after a calendar-rule change).

    ``period_start``: where our own response period starts if a clarification restarted it.
    """
    facts = normalise(facts)
    start = as_utc(period_start) if period_start is not None else None
    return _run(facts, config, start).deadlines


def restart_after_clarification(
    facts: RequestFacts,
    config: ProviderConfig = DEFAULT_CONFIG,
    *,
    clarification_received_at: datetime,
    original_due_at: datetime | None = None,
) -> Decision:
    """Re-decide a request after the issuing authority's clarification (domain.md §12.4).

    ``facts`` are the corrected facts with the original ``received_at``. The production
    period restarts in full from ``clarification_received_at``; windows of authorities (the
    enforcing authority's 10 days / 96 h, preservation expiry, the 48 h mark) keep counting
    from the receipt. If the original deadline had already passed, the decision carries
    CLARIFICATION_AFTER_DEADLINE. ``original_due_at`` defaults to the production deadline the
    original receipt would have given.
    """
    facts = normalise(facts)
    arrived = as_utc(clarification_received_at)
    if arrived < facts.received_at:
        raise ValueError("the clarification cannot arrive before the request")
    decision = _run(facts, config, arrived)
    original = as_utc(original_due_at) if original_due_at else _original_due(facts, config)
    if original is None or arrived <= original:
        return decision
    late = finding(
        "CLARIFICATION_AFTER_DEADLINE",
        field="clarification",
        annex=facts.instrument in v.EEVIDENCE_INSTRUMENTS,
        original_due_at=original.isoformat(),
    )
    return replace(decision, findings=(*decision.findings, late))


def _original_due(facts: RequestFacts, config: ProviderConfig) -> datetime | None:
    if facts.instrument != v.EPOC:
        return None
    suspensive = facts.enforcing_authority_notified and bool(
        facts.data_categories & v.SERIOUS_CATEGORIES
    )
    deadlines = production_deadlines(
        facts,
        config.for_issuer(facts.issuer.country, facts.issuer.region),
        start=facts.received_at,
        suspensive=suspensive,
    )
    return deadlines[0].due_at


def _run(facts: RequestFacts, config: ProviderConfig, period_start: datetime | None) -> Decision:
    # Day periods we wait on end in the issuer's zone too (domain.md §13.2).
    draft = Draft(facts, config.for_issuer(facts.issuer.country, facts.issuer.region), period_start)
    _FAMILIES[facts.instrument](draft)
    return draft.decision()


def normalise(facts: RequestFacts) -> RequestFacts:
    """Refuse values outside the vocabularies (a programming error, not a legal finding) and
    bring every datetime the rules compare to UTC."""
    if facts.instrument not in _INSTRUMENTS:
        raise ValueError(f"unknown instrument {facts.instrument!r}")
    if not facts.data_categories <= _CATEGORIES:
        raise ValueError(f"unknown data categories {sorted(facts.data_categories - _CATEGORIES)}")
    if facts.issuer.authority_type not in v.AUTHORITY_TYPES:
        raise ValueError(f"unknown authority type {facts.issuer.authority_type!r}")
    if facts.validation is not None and facts.validation.authority_type not in v.AUTHORITY_TYPES:
        raise ValueError(f"unknown validating authority type {facts.validation.authority_type!r}")
    offence = facts.offence
    if offence is not None and offence.listed_offence not in _LISTED_OR_NONE:
        raise ValueError(f"unknown listed offence {offence.listed_offence!r}")
    changes: dict[str, object] = {}
    received = as_utc(facts.received_at)
    if received is not facts.received_at:
        changes["received_at"] = received
    country = facts.issuer.country
    iso = _iso_country(country)
    if country != iso:
        changes["issuer"] = replace(facts.issuer, country=iso)
    for name in ("addressee_country", "person_residence_country", "offence_country"):
        value = getattr(facts, name)
        if value and value != _iso_country(value):
            changes[name] = _iso_country(value)
    if facts.linked is not None:
        linked = _linked_utc(facts.linked)
        if linked is not facts.linked:
            changes["linked"] = linked
    return replace(facts, **changes) if changes else facts  # type: ignore[arg-type]


_INSTRUMENTS = frozenset(v.INSTRUMENTS)
_CATEGORIES = frozenset(v.CATEGORIES)
_LISTED_OR_NONE = (None, *v.LISTED_OFFENCES)
# A pure function of a short code, asked four times a decision.
_iso_country = lru_cache(maxsize=1024)(v.iso_country)


def _linked_utc(linked: LinkedRequest) -> LinkedRequest:
    received = as_utc(linked.received_at)
    expires = linked.preservation_expires_at
    expires_utc = as_utc(expires) if expires is not None else None
    if received is linked.received_at and expires_utc is expires:
        return linked
    return replace(linked, received_at=received, preservation_expires_at=expires_utc)
