"""The pure jurisdiction rules engine (DESIGN.md §4.3).

No Django, no ORM, no settings, no clock: ``evaluate(facts, config)`` turns a plain
description of a request into a frozen ``Decision``. See docs/rules.md.
"""

from .catalogue import CATALOGUE, FindingSpec
from .config import CALENDAR, LATER_OF_1182, DayRule, NonEuPolicy, ProviderConfig
from .dsa import Art18Referral, art18_referral
from .engine import (
    DEFAULT_CONFIG,
    evaluate,
    normalise,
    recompute_deadlines,
    restart_after_clarification,
)
from .events import (
    art17_objection_deadlines,
    assess_art17_objection,
    assess_ea_objection,
    legal_team_finding,
    preservation_release,
)
from .model import (
    DsaDetails,
    Issuer,
    LinkedRequest,
    Offence,
    RequestFacts,
    SentenceExecution,
    Target,
    Validation,
)
from .result import CategoryVerdict, Deadline, Decision, Finding
from .vocab import RULEBOOK_VERSION

__all__ = [
    "CALENDAR",
    "CATALOGUE",
    "DEFAULT_CONFIG",
    "LATER_OF_1182",
    "RULEBOOK_VERSION",
    "Art18Referral",
    "CategoryVerdict",
    "DayRule",
    "Deadline",
    "Decision",
    "DsaDetails",
    "Finding",
    "FindingSpec",
    "Issuer",
    "LinkedRequest",
    "NonEuPolicy",
    "Offence",
    "ProviderConfig",
    "RequestFacts",
    "SentenceExecution",
    "Target",
    "Validation",
    "art17_objection_deadlines",
    "art18_referral",
    "assess_art17_objection",
    "assess_ea_objection",
    "evaluate",
    "legal_team_finding",
    "normalise",
    "preservation_release",
    "recompute_deadlines",
    "restart_after_clarification",
]
