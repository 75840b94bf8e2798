"""Reg. (EU) 2023/1543 as corrected by the 2026-12 legal audit: one table per paragraph.

Every test here fails on f02ea04 (the engine before the audit's corrections).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from requests_app.rules import Offence, Target, Validation, evaluate
from requests_app.rules.catalogue import CATALOGUE
from requests_app.rules.engine import restart_after_clarification

from .builders import IP, T0, USER, facts, judge, prosecutor_validation

REG = "Reg. (EU) 2023/1543 Art. "
FRAUD_NO_SENTENCE = Offence("Fraud", "§ 263")  # no maximum sentence stated


def _due(decision: Any, kind: str = "production_due") -> datetime | None:
    return next((d.due_at for d in decision.deadlines if d.kind == kind), None)


# --- Art. 4(1)(b), 4(2)(b), 4(3)(b): "any other competent authority", validated ---------------
ART4: dict[str, tuple[Any, ...]] = {
    "4(2)(b) prosecutor traffic, judge validation": (
        dict(
            issuer=("prosecutor", "IT"),
            categories=("traffic",),
            validation=judge("Tribunale"),
            art_8_2_exception=True,
        ),
        "accepted",
        {"traffic": True},
        "4(2)(b)",
        None,
    ),
    "4(2)(b) prosecutor content, investigating judge validation": (
        dict(
            issuer=("prosecutor", "FR"),
            categories=("content",),
            validation=Validation("investigating_judge", "Juge d'instruction Paris"),
            enforcing_authority_notified=True,
        ),
        "accepted",
        {"content": True},
        "4(2)(b)",
        None,
    ),
    "4(2)(b) prosecutor traffic+content, court validation": (
        dict(
            issuer=("prosecutor", "AT"),
            categories=("subscriber", "traffic", "content"),
            validation=Validation("court", "Landesgericht Wien"),
            art_8_2_exception=True,
        ),
        "accepted",
        {"subscriber": True, "traffic": True, "content": True},
        "4(2)(b)",
        None,
    ),
    "4(2)(b) police traffic, judge validation": (
        dict(
            issuer=("other_competent", "DE"),
            categories=("traffic",),
            validation=judge(),
            art_8_2_exception=True,
        ),
        "accepted",
        {"traffic": True},
        "4(2)(b)",
        None,
    ),
    "4(2)(b) prosecutor traffic, no validation": (
        dict(issuer=("prosecutor", "IT"), categories=("traffic",)),
        "not_executable",
        {"traffic": False},
        "4(2)(b)",
        "EE_VALIDATION_REQUIRED",
    ),
    "4(2)(b) prosecutor content, prosecutor validation": (
        dict(
            issuer=("prosecutor", "IT"),
            categories=("content",),
            validation=prosecutor_validation(),
        ),
        "not_executable",
        {"content": False},
        "4(2)(b)",
        "EE_VALIDATOR_NOT_COMPETENT",
    ),
    "4(1)(b) administrative subscriber, prosecutor validation": (
        dict(issuer=("administrative", "FR"), validation=prosecutor_validation()),
        "accepted",
        {"subscriber": True},
        "4(1)(b)",
        None,
    ),
    "4(1)(b) administrative subscriber, no validation": (
        dict(issuer=("administrative", "FR")),
        "not_executable",
        {"subscriber": False},
        "4(1)(b)",
        "EE_VALIDATION_REQUIRED",
    ),
    "4(3)(b) administrative preservation of content, judge validation": (
        dict(
            instrument="epoc_pr",
            issuer=("administrative", "NL"),
            categories=("content",),
            validation=judge("Rechtbank"),
        ),
        "accepted",
        {"content": True},
        "4(3)(b)",
        None,
    ),
}


@pytest.mark.parametrize("name", list(ART4))
def test_art4_other_competent_authority_with_validation(name: str) -> None:
    overrides, route, verdicts, paragraph, code = ART4[name]
    decision = evaluate(facts(**overrides))
    assert decision.route == route, decision.codes()
    assert {v.data_category: v.allowed for v in decision.verdicts} == verdicts
    cited = [v.legal_basis for v in decision.verdicts] + [f.legal_basis for f in decision.findings]
    assert any(paragraph in c for c in cited), cited
    if code is None:
        assert not any(f.severity == "error" for f in decision.findings), decision.codes()
    else:
        assert code in decision.codes()
        assert "EE_PROSECUTOR_CANNOT_ISSUE" not in decision.codes()


def test_art4_validated_prosecutor_traffic_gets_the_production_deadline() -> None:
    decision = evaluate(
        facts(
            issuer=("prosecutor", "IT"),
            categories=("traffic",),
            validation=judge("GIP"),
            art_8_2_exception=True,
        )
    )
    assert _due(decision) == T0 + timedelta(days=10)


# --- Art. 34(2): applicability from 18 August 2026, by the receipt instant -------------------
APPLICABILITY = {
    "EPOC received 10 Aug 2026": ("epoc", datetime(2026, 8, 10, 9, 0, tzinfo=UTC), False),
    "EPOC-PR received 17 Aug 23:59 Brussels": (
        "epoc_pr",
        datetime(2026, 8, 17, 21, 59, tzinfo=UTC),
        False,
    ),
    "EPOC-PR received 18 Aug 00:00 Brussels": (
        "epoc_pr",
        datetime(2026, 8, 17, 22, 0, tzinfo=UTC),
        True,
    ),
    "EPOC received 1 Sep 2026": ("epoc", T0, True),
}


@pytest.mark.parametrize("name", list(APPLICABILITY))
def test_art34_applicability_is_read_from_the_receipt_instant(name: str) -> None:
    instrument, received, binding = APPLICABILITY[name]
    decision = evaluate(facts(instrument, received_at=received))
    if binding:
        assert "EE_NOT_YET_APPLICABLE" not in decision.codes()
        assert decision.deadlines, "a binding order has its Regulation deadline"
        return
    finding = next(f for f in decision.findings if f.code == "EE_NOT_YET_APPLICABLE")
    assert finding.legal_basis == REG + "34(2)"
    assert finding.severity == "warning"  # review, never a refusal
    assert decision.route not in ("not_executable", "rerouted")
    assert decision.target_status == "in_review"
    assert decision.deadlines == ()  # no Regulation deadline
    assert "EE_PRESERVE_ON_RECEIPT" not in decision.codes()


# --- Art. 9(2) / Annex I: the case summary stays with the issuing authority ---------------------
@pytest.mark.parametrize("instrument", ["epoc", "epoc_pr"])
def test_missing_summary_is_never_a_defect(instrument: str) -> None:
    decision = evaluate(facts(instrument, summary=""))
    assert decision.route == "accepted", decision.codes()
    assert not any("SUMMARY" in code for code in decision.codes())
    assert "EE_SUMMARY_MISSING" not in CATALOGUE


# --- Partial execution per category and per target -------------------------------------------
def test_unclear_category_does_not_suspend_the_valid_one() -> None:
    decision = evaluate(
        facts(categories=("subscriber", "traffic"), offence=FRAUD_NO_SENTENCE)
    )
    assert decision.route == "partially_accepted"
    subscriber, traffic = decision.verdict("subscriber"), decision.verdict("traffic")
    assert subscriber is not None and subscriber.allowed
    assert traffic is not None and not traffic.allowed
    assert traffic.reason_code == "EE_THRESHOLD_NOT_STATED"
    assert _due(decision) == T0 + timedelta(days=10)  # the valid part keeps its deadline


def test_one_malformed_target_never_suspends_the_valid_ones() -> None:
    bad = Target("user_id", "not-a-number")
    decision = evaluate(facts(targets=(USER, bad, IP), categories=("subscriber",)))
    assert decision.route == "partially_accepted"
    assert _due(decision) == T0 + timedelta(days=10)
    verdicts = [(t.index, t.allowed, t.reason_code) for t in decision.targets]
    assert verdicts == [(0, True, "allowed"), (1, False, "TGT_MALFORMED"), (2, True, "allowed")]
    body = decision.to_dict()
    assert body["targets"][1] == {
        "index": 1,
        "kind": "user_id",
        "allowed": False,
        "reason_code": "TGT_MALFORMED",
        "legal_basis": REG + "5(5)(c)",
    }
    assert body["categories"] == [
        {
            "data_category": "subscriber",
            "allowed": True,
            "reason_code": "allowed",
            "rule_id": "R1",
            "legal_basis": REG + "4(1)(a), 5(3)",
        }
    ]


def test_all_targets_malformed_asks_for_clarification() -> None:
    decision = evaluate(facts(targets=(Target("user_id", "x"), Target("phone", "12"))))
    assert decision.route == "clarification_required"
    assert _due(decision) is None
    assert [t.allowed for t in decision.targets] == [False, False]


# --- Art. 8: consistency of the notification as a manifest error -------------------------------
ART8: dict[str, tuple[Any, ...]] = {
    "traffic, neither notified nor exception": (
        dict(categories=("traffic",)),
        "EE_EA_NOTIFICATION_MISSING",
    ),
    "content, exception but person resides elsewhere": (
        dict(categories=("content",), art_8_2_exception=True, person_residence_country="FR"),
        "EE_ART_8_2_RESIDENCE_MISMATCH",
    ),
    "traffic, exception but offence committed elsewhere": (
        dict(categories=("traffic",), art_8_2_exception=True, offence_country="PL"),
        "EE_ART_8_2_OFFENCE_MISMATCH",
    ),
}


@pytest.mark.parametrize("name", list(ART8))
def test_art8_inconsistency_is_a_manifest_error_never_executed(name: str) -> None:
    overrides, code = ART8[name]
    decision = evaluate(facts(**overrides))
    assert decision.route == "clarification_required", decision.codes()
    finding = next(f for f in decision.findings if f.code == code)
    assert finding.annex_iii_reason == "manifest_errors"
    assert _due(decision) is None  # no execution without the suspensive window


def test_art8_inconsistency_blocks_traffic_only() -> None:
    decision = evaluate(facts(categories=("subscriber", "traffic")))
    assert decision.route == "partially_accepted"
    traffic = decision.verdict("traffic")
    assert traffic is not None and traffic.reason_code == "EE_EA_NOTIFICATION_MISSING"
    assert decision.target_status != "awaiting_enforcing_authority"


def test_art8_consistent_exception_is_executed() -> None:
    decision = evaluate(
        facts(
            categories=("traffic",),
            art_8_2_exception=True,
            person_residence_country="DE",
            offence_country="DE",
        )
    )
    assert decision.route == "accepted"
    assert "EE_ART_8_2_EXCEPTION" in decision.codes()


# --- Country codes: EL/GR, UK/GB ---------------------------------------------------------------
def test_greece_as_el_is_a_member_state() -> None:
    decision = evaluate(facts(issuer=("judge", "EL")))
    assert decision.route == "accepted", decision.codes()


def test_el_and_gr_are_the_same_for_art_8_2() -> None:
    decision = evaluate(
        facts(
            issuer=("judge", "GR"),
            categories=("traffic",),
            art_8_2_exception=True,
            person_residence_country="EL",
        )
    )
    assert decision.route == "accepted"
    assert "EE_ART_8_2_RESIDENCE_MISMATCH" not in decision.codes()


def test_uk_is_stored_as_gb() -> None:
    decision = evaluate(facts(issuer=("judge", "UK")))
    assert decision.codes() == ("EE_ISSUER_NOT_MEMBER_STATE",)
    assert decision.findings[0].message_params["country"] == "GB"


# --- Art. 7(2): emergency order addressed to a non-designated establishment ---------------------
@pytest.mark.parametrize(
    ("unresponsive", "code"),
    [(True, "EE_EMERGENCY_ADDRESSEE"), (False, "EE_EMERGENCY_FORWARD_TO_DESIGNATED")],
)
def test_art7_2_other_establishment_only_if_designated_failed(unresponsive: bool, code: str) -> None:
    decision = evaluate(
        facts(
            addressee_country="NL",
            emergency=True,
            emergency_reason="Kidnapping",
            designated_unresponsive=unresponsive,
        )
    )
    assert code in decision.codes()
    assert decision.route == "accepted"
    assert _due(decision) == T0 + timedelta(hours=8)  # the emergency deadline never lost


# --- Texts shown to authorities cite public law only -------------------------------------------
INTERNAL = re.compile(r"domain\.md|DESIGN\.md|§\s?\d+\.\d+\b|§1[0-3]\b")


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_finding_messages_cite_no_internal_document(code: str) -> None:
    spec = CATALOGUE[code]
    assert not INTERNAL.search(spec.message), spec.message
    assert not INTERNAL.search(spec.legal_basis), spec.legal_basis


def test_deadline_explanations_cite_no_internal_document() -> None:
    unclear = facts(targets=(Target("user_id", "x"),))
    decisions = [
        evaluate(unclear),
        restart_after_clarification(
            facts(), clarification_received_at=T0 + timedelta(days=20)
        ),
    ]
    texts = [d.explanation for decision in decisions for d in decision.deadlines]
    texts += [f.message for decision in decisions for f in decision.findings]
    assert texts
    assert not [t for t in texts if INTERNAL.search(t)]
