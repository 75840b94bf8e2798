"""Vocabularies and citations of the rules engine.

The string values are the public contract of DESIGN.md §5 and must match
``requests_app.states`` (which the Django side owns); this module repeats them as plain
constants so that the engine stays free of Django.
"""

from __future__ import annotations

from typing import Final

RULEBOOK_VERSION: Final = "2026.12-r3"
"""Bump on every change that can alter a decision (see docs/rules.md, "Changing a rule")."""

# --- Instruments (DESIGN.md §5 ``instrument``) ----------------------------------------------
EPOC: Final = "epoc"
EPOC_PR: Final = "epoc_pr"
PRESERVATION_EXTENSION: Final = "preservation_extension"  # Annex VI
PRODUCTION_CONFIRMATION: Final = "production_confirmation"  # Annex V
DSA_REMOVAL_ORDER: Final = "dsa_removal_order"  # DSA Art. 9
DSA_INFORMATION_ORDER: Final = "dsa_information_order"  # DSA Art. 10
EMERGENCY_DISCLOSURE: Final = "emergency_disclosure"
US_SUBPOENA: Final = "us_subpoena"
US_COURT_ORDER: Final = "us_court_order"
US_SEARCH_WARRANT: Final = "us_search_warrant"
US_PRESERVATION: Final = "us_preservation"
NATIONAL_ORDER: Final = "national_order"

EEVIDENCE_INSTRUMENTS: Final = frozenset(
    {EPOC, EPOC_PR, PRESERVATION_EXTENSION, PRODUCTION_CONFIRMATION}
)
DSA_INSTRUMENTS: Final = frozenset({DSA_REMOVAL_ORDER, DSA_INFORMATION_ORDER})
US_INSTRUMENTS: Final = frozenset({US_SUBPOENA, US_COURT_ORDER, US_SEARCH_WARRANT, US_PRESERVATION})
INSTRUMENTS: Final = (
    EEVIDENCE_INSTRUMENTS
    | DSA_INSTRUMENTS
    | US_INSTRUMENTS
    | frozenset({EMERGENCY_DISCLOSURE, NATIONAL_ORDER})
)

# --- Data categories (Reg. 2023/1543 Art. 3(9)-(12)) --------------------------------------
SUBSCRIBER: Final = "subscriber"
IDENTIFICATION: Final = "identification"
TRAFFIC: Final = "traffic"
CONTENT: Final = "content"
CATEGORIES: Final = (SUBSCRIBER, IDENTIFICATION, TRAFFIC, CONTENT)  # display order
NON_SERIOUS_CATEGORIES: Final = frozenset({SUBSCRIBER, IDENTIFICATION})  # Art. 5(3)
SERIOUS_CATEGORIES: Final = frozenset({TRAFFIC, CONTENT})  # Art. 5(4), Art. 8(1)

# --- Authority types (DESIGN.md §5 ``authority_type``) ------------------------------------
JUDGE: Final = "judge"
COURT: Final = "court"
INVESTIGATING_JUDGE: Final = "investigating_judge"
PROSECUTOR: Final = "prosecutor"
OTHER_COMPETENT: Final = "other_competent"
ADMINISTRATIVE: Final = "administrative"
JUDICIAL: Final = frozenset({JUDGE, COURT, INVESTIGATING_JUDGE})
AUTHORITY_TYPES: Final = JUDICIAL | frozenset({PROSECUTOR, OTHER_COMPETENT, ADMINISTRATIVE})
# Each type as the agent of "issued by ..." / "validated by ...", with the article that
# belongs to it ("an administrative authority", never "a administrative"): the engine's English
# messages write these (catalogue.finding); the portal's texts translate the same phrases by
# type (requests_app/finding_texts.py AUTHORITIES_BY), gendered and declined per language.
AUTHORITY_BY: Final[dict[str, str]] = {
    JUDGE: "a judge",
    COURT: "a court",
    INVESTIGATING_JUDGE: "an investigating judge",
    PROSECUTOR: "a public prosecutor",
    OTHER_COMPETENT: "the police or another competent authority",
    ADMINISTRATIVE: "an administrative authority",
}

# --- Listed offences (Art. 5(4)(b)-(c)) ----------------------------------------------------
NON_CASH_PAYMENT_FRAUD: Final = "non_cash_payment_fraud"  # Dir. (EU) 2019/713 Arts 3-8
CHILD_SEXUAL_ABUSE: Final = "child_sexual_abuse"  # Dir. 2011/93/EU Arts 3-7
INFORMATION_SYSTEM_ATTACK: Final = "information_system_attack"  # Dir. 2013/40/EU Arts 3-8
TERRORISM: Final = "terrorism"  # Dir. (EU) 2017/541 Arts 3-12, 14
LISTED_VIA_INFORMATION_SYSTEM: Final = frozenset(
    {NON_CASH_PAYMENT_FRAUD, CHILD_SEXUAL_ABUSE, INFORMATION_SYSTEM_ATTACK}
)
LISTED_OFFENCES: Final = LISTED_VIA_INFORMATION_SYSTEM | frozenset({TERRORISM})

# --- Target kinds ---------------------------------------------------------------------------
TARGET_KINDS: Final = frozenset(
    {"username", "user_id", "phone", "email", "ip_address", "channel_url", "message_url"}
)
ACCOUNT_TARGET_KINDS: Final = frozenset({"username", "user_id", "phone", "email", "channel_url"})

# --- Routes and target statuses (DESIGN.md §5) -------------------------------------------
ACCEPTED: Final = "accepted"
PARTIALLY_ACCEPTED: Final = "partially_accepted"
CLARIFICATION_REQUIRED: Final = "clarification_required"
NOT_EXECUTABLE: Final = "not_executable"
REROUTED: Final = "rerouted"
ROUTES: Final = (ACCEPTED, PARTIALLY_ACCEPTED, CLARIFICATION_REQUIRED, NOT_EXECUTABLE, REROUTED)

ST_CLARIFICATION_REQUESTED: Final = "clarification_requested"
ST_NOT_EXECUTED: Final = "not_executed"
ST_REROUTED: Final = "rerouted"
ST_IN_REVIEW: Final = "in_review"
ST_AWAITING_EA: Final = "awaiting_enforcing_authority"
ST_PRESERVING: Final = "preserving"
ST_VERIFICATION_HOLD: Final = "verification_hold"

# --- Annex III reasons (domain.md §8.3) ---------------------------------------------------
AIII_INCOMPLETE: Final = "incomplete"
AIII_MANIFEST_ERRORS: Final = "manifest_errors"
AIII_INSUFFICIENT_INFORMATION: Final = "insufficient_information"
AIII_DATA_NOT_STORED: Final = "data_not_stored"
AIII_DE_FACTO_IMPOSSIBILITY: Final = "de_facto_impossibility"
AIII_NOT_ISSUED_PER_ART_4: Final = "not_issued_per_art_4"
AIII_OFFENCE_OUTSIDE_ART_5_4: Final = "offence_outside_art_5_4"
AIII_PROVIDER_NOT_COVERED: Final = "provider_not_covered"
AIII_IMMUNITIES_PRIVILEGES: Final = "immunities_privileges"
AIII_THIRD_COUNTRY_CONFLICT: Final = "third_country_conflict"
AIII_OTHER: Final = "other"
ANNEX_III_REASONS: Final = (
    AIII_INCOMPLETE,
    AIII_MANIFEST_ERRORS,
    AIII_INSUFFICIENT_INFORMATION,
    AIII_DATA_NOT_STORED,
    AIII_DE_FACTO_IMPOSSIBILITY,
    AIII_NOT_ISSUED_PER_ART_4,
    AIII_OFFENCE_OUTSIDE_ART_5_4,
    AIII_PROVIDER_NOT_COVERED,
    AIII_IMMUNITIES_PRIVILEGES,
    AIII_THIRD_COUNTRY_CONFLICT,
    AIII_OTHER,
)
"""The one Annex III reason vocabulary (section D boxes, in the Annex's order): the engine
ticks these, the models store them, the admin forms, the PDF, the e-mails and the API use
them (``requests_app.models.AnnexIIIReason`` gives their labels)."""
ANNEX_III_LEGACY_REASONS: Final = {
    # Codes the legal team's forms used before the vocabulary was unified (migration 0010).
    "not_issued_or_validated_per_art_4": AIII_NOT_ISSUED_PER_ART_4,
    "offence_not_within_art_5_4": AIII_OFFENCE_OUTSIDE_ART_5_4,
    "immunities_or_privileges": AIII_IMMUNITIES_PRIVILEGES,
    "conflicting_obligations": AIII_THIRD_COUNTRY_CONFLICT,
}

# --- Countries -----------------------------------------------------------------------------
EU_MEMBER_STATES: Final = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    }
)
"""ISO 3166-1 alpha-2 codes; Greece is ``GR`` (ISO), not ``EL`` (EU protocol order)."""

COUNTRY_ALIASES: Final = {"EL": "GR", "UK": "GB"}
"""EU documents write Greece as EL and many forms the United Kingdom as UK: accepted at
input, stored and compared as ISO 3166-1 alpha-2."""


def iso_country(code: str) -> str:
    """``"el"`` → ``"GR"``, ``"UK"`` → ``"GB"``, ``" de "`` → ``"DE"``."""
    upper = code.strip().upper()
    return COUNTRY_ALIASES.get(upper, upper)

# --- Citations ----------------------------------------------------------------------------
REG: Final = "Reg. (EU) 2023/1543"
DSA: Final = "Reg. (EU) 2022/2065"
SCA: Final = "18 U.S.C."
REG_1182: Final = "Reg. (EEC, Euratom) No 1182/71 Art. 3"
# A US statute's days, counted as the federal rules count them where it states no method. [A]
FRCRP_45: Final = "Fed. R. Crim. P. 45(a)"
POLICY: Final = "Provider policy (Telegram-style ToS 8.3; MLAT practice)"


def reg(article: str) -> str:
    """``reg("4(2)")`` → ``"Reg. (EU) 2023/1543 Art. 4(2)"``."""
    return f"{REG} Art. {article}"


def dsa(article: str) -> str:
    return f"{DSA} Art. {article}"


def sca(section: str) -> str:
    return f"{SCA} § {section}"
