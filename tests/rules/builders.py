"""Small builders for RequestFacts: a valid request by default, overridden per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from requests_app.rules import (
    DsaDetails,
    Issuer,
    LinkedRequest,
    Offence,
    RequestFacts,
    SentenceExecution,
    Target,
    Validation,
)

T0 = datetime(2026, 9, 1, 9, 30, tzinfo=UTC)  # a Tuesday, after the Regulation applies

USER = Target("username", "@suspect_account")
IP = Target("ip_address", "203.0.113.7", T0 - timedelta(days=3))
MESSAGE = Target("message_url", "https://t.me/somechannel/1234")
SERIOUS = Offence("Aggravated fraud", "StGB § 263(3)", max_sentence_months=120)
MINOR = Offence("Insult", "StGB § 185", max_sentence_months=12)


def judge(name: str = "Amtsgericht") -> Validation:
    return Validation("judge", name, "VAL-1")


def prosecutor_validation() -> Validation:
    return Validation("prosecutor", "Staatsanwaltschaft", "VAL-2")


def facts(
    instrument: str = "epoc",
    issuer: tuple[str, str] | Issuer = ("judge", "DE"),
    categories: tuple[str, ...] = ("subscriber",),
    **overrides: Any,
) -> RequestFacts:
    values: dict[str, Any] = {
        "instrument": instrument,
        "issuer": issuer if isinstance(issuer, Issuer) else Issuer(*issuer),
        "received_at": T0,
        "data_categories": frozenset(categories),
        "targets": (USER,),
        "case_reference": "AZ 123/26",
        "summary": "Investment fraud run through a channel.",
        "offence": SERIOUS,
        "language": "en",
    }
    values.update(overrides)
    return RequestFacts(**values)


def dsa_details(**overrides: Any) -> DsaDetails:
    values: dict[str, Any] = {
        "legal_basis": "Loi du 21 juin 2004, art. 6-3",
        "statement_of_reasons": "Apology of terrorism, Code pénal art. 421-2-5",
        "redress_information": "Recours devant le tribunal administratif de Paris",
        "territorial_scope": "FR",
        "content_urls": ("https://t.me/somechannel/1234",),
    }
    values.update(overrides)
    return DsaDetails(**values)


def linked_pr(days_ago: float, **overrides: Any) -> LinkedRequest:
    values: dict[str, Any] = {
        "reference": "LRP-2026-000001",
        "instrument": "epoc_pr",
        "received_at": T0 - timedelta(days=days_ago),
        "status": "preserving",
    }
    values.update(overrides)
    return LinkedRequest(**values)


def sentence(months: int = 6, *, in_absentia: bool = False, absconded: bool = True) -> Offence:
    return Offence(
        "Fraud (sentence execution)",
        "StGB § 263",
        max_sentence_months=60,
        sentence_execution=SentenceExecution(months, in_absentia, absconded),
    )
