"""A seeded corpus of random requests and configurations, for equivalence checks of the
engine's outputs (tests/rules/test_equivalence.py): many facts, zones, DST changes,
holidays, configurations; every public entry point's output as canonical JSON."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from requests_app.rules import (
    CALENDAR,
    LATER_OF_1182,
    DayRule,
    DsaDetails,
    Issuer,
    LinkedRequest,
    Offence,
    ProviderConfig,
    RequestFacts,
    SentenceExecution,
    Target,
    Validation,
    art17_objection_deadlines,
    assess_art17_objection,
    assess_ea_objection,
    evaluate,
    recompute_deadlines,
    restart_after_clarification,
)
from requests_app.rules import vocab as v
from requests_app.rules.config import (
    EE_EA_WINDOW,
    EE_PRESERVATION,
    EE_PRODUCTION,
    INTERNAL,
    US_PRESERVATION_RULE,
    _default_day_rules,
)

COUNTRIES = [
    "DE",
    "FR",
    "IT",
    "IE",
    "DK",
    "BE",
    "NL",
    "PT",
    "ES",
    "EL",
    "GR",
    "US",
    "IN",
    "GB",
    "UK",
    "BR",
    "AU",
    "de",
    " fr ",
]
ZONES = [
    "UTC",
    "Europe/Lisbon",
    "Atlantic/Azores",
    "America/New_York",
    "Asia/Tokyo",
    "Europe/Berlin",
    "Pacific/Kiritimati",
]
START = datetime(2026, 3, 1, tzinfo=UTC)
TARGETS = [
    Target("username", "@suspect_account"),
    Target("username", "Jean Dupont"),
    Target("user_id", "42424242"),
    Target("phone", "+32 470 12 34 56"),
    Target("email", "someone@example.org"),
    Target("email", "not-an-email"),
    Target("ip_address", "2001:db8::1", START - timedelta(days=1)),
    Target("ip_address", "192.0.2.1"),
    Target("ip_address", "203.0.113.7", datetime(2026, 9, 1, 9, 30)),  # naive time stamp
    Target("channel_url", "https://t.me/somechannel"),
    Target("message_url", "t.me/somechannel/99"),
    Target("message_url", "https://example.com/x/1"),
]
DSA = DsaDetails(
    "Loi 2004-575 art. 6-3", "Apology of terrorism", "Tribunal administratif", "FR", ("https://t.me/somechannel/1234",)
)


def _moment(rng: random.Random) -> datetime:
    minutes = rng.randrange(0, 2 * 365 * 24 * 60)
    instant = START + timedelta(minutes=minutes, seconds=rng.choice([0, 0, 59]))
    return instant.astimezone(ZoneInfo(rng.choice(ZONES)))


def configs() -> list[ProviderConfig]:
    later = DayRule(LATER_OF_1182)
    rules = dict(_default_day_rules())
    all_later = {**rules, EE_PRODUCTION: later, INTERNAL: DayRule(LATER_OF_1182, "FR"), US_PRESERVATION_RULE: later}
    zones = {
        **ProviderConfig().country_time_zones,
        "FR": ("Europe/Paris", "America/Cayenne"),
        "NL": ("Europe/Amsterdam", "America/Curacao"),
    }
    return [
        ProviderConfig(),
        ProviderConfig(
            establishment_country="IE", establishment_time_zone="Europe/Dublin", us_allow_further_renewals=True
        ),
        ProviderConfig(bound_member_states=v.EU_MEMBER_STATES - {"DK", "IE"}, us_sca_applies=False),
        ProviderConfig(day_rules=all_later, holiday_countries=("DE", "FR"), warn_ratio=0.5),
        ProviderConfig(
            issuer_holidays=False,
            applicability_in_issuer_zones=False,
            extension_from_period_end=False,
            country_time_zones=zones,
        ),
        ProviderConfig(
            establishment_country="PT",
            establishment_time_zone="Atlantic/Azores",
            day_rules={**rules, EE_PRESERVATION: DayRule(CALENDAR), EE_EA_WINDOW: DayRule(LATER_OF_1182, "PT")},
            bound_member_states=frozenset(v.EU_MEMBER_STATES - {"DK", "GR"}) | {"EL"},
        ),
        ProviderConfig(
            establishment_country="UK",
            establishment_time_zone="UTC",
            sca_2523_agreements=frozenset({"UK", "AU"}),
            foreign_records_disclosure=False,
            sca_2523_requires_court_order=False,
            sca_conflict_on_eu_content=False,
        ),
    ]


def _offence(rng: random.Random) -> Offence | None:
    if rng.random() < 0.15:
        return None
    return Offence(
        rng.choice(["", "Fraud"]),
        rng.choice(["", "§ 1"]),
        rng.choice([None, 0, 12, 36, 48, 120]),
        rng.choice([None, None, *sorted(v.LISTED_OFFENCES)[:4]]),
        rng.random() < 0.2,
        SentenceExecution(rng.randrange(0, 24), rng.random() < 0.5, rng.random() < 0.5) if rng.random() < 0.1 else None,
    )


GOOD_TARGETS = [TARGETS[0], TARGETS[2], TARGETS[3], TARGETS[4], TARGETS[6], TARGETS[9], TARGETS[10]]
EU_ISSUERS = ["DE", "FR", "IT", "NL", "PT", "ES", "EL", "IE", "de"]


def facts(rng: random.Random) -> RequestFacts:
    """Half of the cases are valid-looking requests (so that deadlines are computed), the
    rest anything."""
    if rng.random() < 0.55:
        return _valid_looking(rng)
    return _any(rng)


def _valid_looking(rng: random.Random) -> RequestFacts:
    base = _any(rng)
    instrument = rng.choice(
        ["epoc"] * 5 + ["epoc_pr", "preservation_extension", "production_confirmation", *sorted(v.INSTRUMENTS)]
    )
    eu = instrument in v.EEVIDENCE_INSTRUMENTS or rng.random() < 0.5
    return replace(
        base,
        instrument=instrument,
        issuer=Issuer(
            rng.choice(["judge", "judge", "court", "prosecutor", "other_competent"]),
            rng.choice(EU_ISSUERS if eu else COUNTRIES),
        ),
        data_categories=frozenset(rng.sample(v.CATEGORIES, rng.randrange(1, 3))),
        targets=tuple(rng.sample(GOOD_TARGETS, rng.randrange(1, 3))),
        case_reference="AZ 1/26",
        summary="Summary",
        offence=Offence("Fraud", "§ 263", rng.choice([36, 48, 120])),
        language="en",
        addressee_country=None,
        validation=Validation("judge", "Court") if rng.random() < 0.7 else base.validation,
        dsa=DSA,
        confidential=False,
        art_8_2_exception=False,
        data_from=None,
        data_to=None,
    )


def _any(rng: random.Random) -> RequestFacts:
    received = _moment(rng)
    linked = None
    if rng.random() < 0.5:
        expires = received + timedelta(days=rng.randrange(-10, 40)) if rng.random() < 0.3 else None
        linked = LinkedRequest(
            "LRP-2026-000001",
            rng.choice(["epoc_pr", "us_preservation", "epoc"]),
            (
                received
                - timedelta(
                    days=rng.choice([0, 1, 30, 55, 58, 59, 60, 61, 62, 89, 92, 150]), hours=rng.randrange(0, 24)
                )
            ).astimezone(ZoneInfo(rng.choice(ZONES))),
            rng.choice(["preserving", "preserving", "released"]),
            expires,
            rng.choice([0, 0, 1, 2]),
            rng.random() < 0.3,
        )
    data_from = _moment(rng) if rng.random() < 0.3 else None
    data_to = _moment(rng) if rng.random() < 0.3 else None
    return RequestFacts(
        instrument=rng.choice(sorted(v.INSTRUMENTS) + ["epoc"] * 6 + ["epoc_pr", "preservation_extension"]),
        issuer=Issuer(rng.choice(sorted(v.AUTHORITY_TYPES)), rng.choice(COUNTRIES)),
        received_at=received,
        data_categories=frozenset(c for c in v.CATEGORIES if rng.random() < 0.4),
        targets=tuple(rng.choice(TARGETS) for _ in range(rng.choice([0, 1, 1, 2, 3]))),
        data_from=data_from,
        data_to=data_to,
        case_reference=rng.choice(["", "AZ 1/26"]),
        summary=rng.choice(["", "Summary"]),
        offence=_offence(rng),
        emergency=rng.random() < 0.25,
        emergency_reason=rng.choice(["", "Threat to life"]),
        validation=Validation(rng.choice(sorted(v.AUTHORITY_TYPES)), rng.choice(["", "Court"]))
        if rng.random() < 0.5
        else None,
        enforcing_authority_notified=rng.random() < 0.4,
        art_8_2_exception=rng.random() < 0.2,
        confidential=rng.random() < 0.2,
        confidentiality_reason=rng.choice(["", "Ongoing investigation"]),
        linked=linked,
        language=rng.choice(["", "en", "fr", "fi"]),
        dsa=DSA if rng.random() < 0.7 else None,
        addressee_country=rng.choice([None, None, None, "DK", "NL", "BE", "el"]),
        person_residence_country=rng.choice([None, None, "DE", "FR", "uk"]),
        suspect_named=rng.choice([None, True, False]),
        offence_country=rng.choice([None, None, "DE", "BE"]),
        designated_unresponsive=rng.random() < 0.2,
    )


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except ValueError as error:  # part of the contract: same refusals
        return f"ValueError: {error}"


def _dict(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_dict(x) for x in value]
    return value.to_dict() if hasattr(value, "to_dict") else value


def outputs(facts: RequestFacts, config: ProviderConfig, rng: random.Random) -> str:
    """Every entry point's answer for one case, as canonical JSON."""
    later = facts.received_at + timedelta(hours=rng.randrange(0, 40 * 24))
    out = {
        "evaluate": _dict(_call(evaluate, facts, config)),
        "recompute": _dict(_call(recompute_deadlines, facts, config, period_start=later)),
        "restart": _dict(_call(restart_after_clarification, facts, config, clarification_received_at=later)),
        "ea": _dict(_call(assess_ea_objection, facts, config, objection_received_at=later)),
        "art17": _dict(_call(art17_objection_deadlines, facts, config)),
        "art17_filed": _dict(_call(assess_art17_objection, facts, config, filed_at=later)),
    }
    return json.dumps(out, sort_keys=True, default=str)


def cases(count: int, seed: int = 20261203) -> Iterator[tuple[int, RequestFacts, ProviderConfig, str]]:
    """``count`` (index, facts, config, outputs) cases; deterministic for a seed."""
    rng = random.Random(seed)
    all_configs = configs()
    for index in range(count):
        case = facts(rng)
        config = all_configs[index % len(all_configs)]
        if rng.random() < 0.1:
            case = replace(case, received_at=case.received_at.replace(tzinfo=None))  # naive: refused
        yield index, case, config, outputs(case, config, random.Random(seed + index))
