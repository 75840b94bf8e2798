"""Pure helpers for events that happen after the first decision (domain.md §7, §9).

They never change state themselves: they return the finding and/or deadline the Django
side records, so that the same citations and codes are used everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import vocab as v
from .catalogue import CATALOGUE, finding
from .config import EE_EA_WINDOW, INTERNAL, ProviderConfig
from .deadlines import as_utc, day_deadline, day_end, hours_deadline
from .eevidence import EA_EMERGENCY_HOURS, EA_WINDOW_DAYS
from .model import RequestFacts
from .result import Deadline, Finding, ParamValue

# Findings a person raises after looking at the data or the law (Annex III reasons the
# engine cannot see in the facts: examples 18, 23, 24).
LEGAL_TEAM_CODES = frozenset(
    {
        "EE_DATA_NOT_STORED",
        "EE_DE_FACTO_IMPOSSIBILITY",
        "EE_IMMUNITIES_CONCERN",
        "EE_THIRD_COUNTRY_CONFLICT",
    }
)


def legal_team_finding(
    code: str, *, category: str | None = None, field: str | None = None, **params: ParamValue
) -> Finding:
    """A finding raised by the legal team, with the catalogue's citation and Annex III box."""
    if code not in LEGAL_TEAM_CODES:
        raise ValueError(f"{code} is not raised by people; known: {sorted(LEGAL_TEAM_CODES)}")
    assert code in CATALOGUE
    extra: dict[str, Any] = dict(params)
    return finding(code, category=category, field=field, **extra)


def assess_ea_objection(
    facts: RequestFacts, config: ProviderConfig, *, objection_received_at: datetime
) -> Finding:
    """Art. 10(2)/(4), 12 [V] (example 15). In an emergency the enforcing authority may
    object within 96 hours (use restricted); otherwise within its 10-day window (a ground for
    refusal: do not transfer). Later objections are logged as late for legal review."""
    received = as_utc(facts.received_at)
    at = as_utc(objection_received_at)
    config = config.for_issuer(facts.issuer.country, facts.issuer.region)
    if facts.emergency:
        end = hours_deadline(
            "ea_objection_window_end",
            received,
            EA_EMERGENCY_HOURS,
            legal_basis=v.reg("10(4)"),
            config=config,
            what="",
        ).due_at
        in_time_code = "EE_EA_OBJECTION_USE_RESTRICTED"
    else:
        end = day_end(received, EA_WINDOW_DAYS, EE_EA_WINDOW, config)
        in_time_code = "EE_EA_GROUND_RAISED"
    if at <= end:
        return finding(in_time_code, field="enforcing_authority")
    return finding("EE_EA_OBJECTION_LATE", field="enforcing_authority", window_end=end.isoformat())


def art17_objection_deadlines(
    facts: RequestFacts, config: ProviderConfig
) -> tuple[Deadline, Deadline]:
    """Art. 17 [M], domain.md §12.5: a soft deadline (warn at day 7, due at day 10); never an
    automatic refusal or production."""
    received = as_utc(facts.received_at)
    config = config.for_issuer(facts.issuer.country, facts.issuer.region)
    warn = day_deadline(
        "art17_objection_warn",
        received,
        config.art17_warn_days,
        rule_key=INTERNAL,
        legal_basis=v.reg("17 [M]"),
        config=config,
        informational=True,
        what="Reasoned objection: reminder",
        what_code="art17_reminder",
    )
    due = day_deadline(
        "art17_objection_due",
        received,
        config.art17_due_days,
        rule_key=INTERNAL,
        legal_basis=v.reg("17 [M]"),
        config=config,
        what="Reasoned objection (soft deadline)",
        what_code="art17_due",
    )
    return warn, due


def assess_art17_objection(
    facts: RequestFacts, config: ProviderConfig, *, filed_at: datetime
) -> tuple[Finding, ...]:
    """The conflict finding, plus EE_ART17_OBJECTION_LATE if filed after the soft deadline
    (example 23: filed on day 12 → late)."""
    due = art17_objection_deadlines(facts, config)[1].due_at
    at = as_utc(filed_at)
    conflict = finding("EE_THIRD_COUNTRY_CONFLICT", field="objection")
    if at <= due:
        return (conflict,)
    late = finding(
        "EE_ART17_OBJECTION_LATE",
        field="objection",
        filed_at=at.isoformat(),
        due_at=due.isoformat(),
    )
    return conflict, late


def preservation_release(*, notified_at: datetime) -> tuple[Finding, Deadline]:
    """Art. 10(9), 11(3) (example 22): the issuing authority says preservation is no longer
    necessary → the obligation ceases; release now (not at the 60-day expiry)."""
    at = as_utc(notified_at)
    deadline = Deadline(
        "preservation_release",
        at,
        f"Release on notice that preservation is no longer necessary ({at:%Y-%m-%d %H:%M} "
        "UTC): the obligation ceases at once.",
        "immediate",
        v.reg("11(3)"),
        explanation_code="preservation_release",
        explanation_params={"rule": "immediate", "due_at": at.isoformat()},
    )
    return finding("EE_PRESERVATION_RELEASED", field="linked_reference"), deadline
