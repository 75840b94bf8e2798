"""Art. 4(1)(b), 4(2)(b), 4(3)(b) and 4(5) of Reg. (EU) 2023/1543 as a case table.

issuer type × instrument × data category × validator type × emergency → expected verdict
and finding code, computed here from the text of Art. 4 (domain.md §13.1), not from the
engine:

- (a) authorities need no validation: a judge, a court or an investigating judge for every
  category; a public prosecutor for subscriber/identification production (4(1)(a)) and for
  preservation (4(3)(a)), not for traffic/content production (4(2)(a)).
- (b) "any other competent authority" acting as investigating authority (a prosecutor for
  traffic/content, police, an administrative authority) issues validly once the order is
  validated: by a judge, court or investigating judge for traffic/content production
  (4(2)(b)); by one of them or a prosecutor otherwise (4(1)(b), 4(3)(b)).
- 4(5): in an emergency a (b) authority may issue a subscriber/identification production
  order or a preservation order without prior validation (ex-post within 48 h); never a
  traffic/content production order. A stated "validation" by an authority that cannot
  validate is no validation: such an emergency order is still valid under 4(5) [A].
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from requests_app.rules import Validation, evaluate

from .builders import facts

JUDICIAL = ("judge", "court", "investigating_judge")
ISSUERS = (*JUDICIAL, "prosecutor", "other_competent", "administrative")
VALIDATORS = (None, *ISSUERS)
CATEGORIES = ("subscriber", "identification", "traffic", "content")
INSTRUMENTS = ("epoc", "epoc_pr")


def expected(
    instrument: str, issuer: str, category: str, validator: str | None, emergency: bool
) -> tuple[bool, str, str]:
    """(allowed, reason_code or finding code that must be present, Art. 4 paragraph cited)."""
    serious = instrument == "epoc" and category in ("traffic", "content")
    para = "4(2)" if serious else ("4(1)" if instrument == "epoc" else "4(3)")
    if issuer in JUDICIAL or (issuer == "prosecutor" and not serious):
        return True, "allowed", f"{para}(a)"
    validators = JUDICIAL if serious else (*JUDICIAL, "prosecutor")
    if validator in validators:
        return True, "allowed", f"{para}(b)"
    if emergency and not serious:
        return True, "EE_EX_POST_VALIDATION_PENDING", f"{para}(b)"
    if validator is None:
        return False, "EE_NO_EMERGENCY_EXCEPTION" if emergency else "EE_VALIDATION_REQUIRED", f"{para}(b)"
    return False, "EE_VALIDATOR_NOT_COMPETENT", f"{para}(b)"


CASES = list(itertools.product(INSTRUMENTS, ISSUERS, CATEGORIES, VALIDATORS, (False, True)))


def _facts(instrument: str, issuer: str, category: str, validator: str | None, emergency: bool) -> Any:
    extra: dict[str, Any] = {}
    if validator is not None:
        extra["validation"] = Validation(validator, f"Named {validator}", "VAL-9")
    if emergency:
        extra.update(emergency=True, emergency_reason="Imminent threat to a child's life")
    if instrument == "epoc" and category in ("traffic", "content"):
        # Art. 8(2): offence and residence in the issuing state, consistently stated.
        extra.update(art_8_2_exception=True, person_residence_country="IT", offence_country="IT")
    return facts(instrument, issuer=(issuer, "IT"), categories=(category,), **extra)


@pytest.mark.parametrize(
    ("instrument", "issuer", "category", "validator", "emergency"),
    CASES,
    ids=[f"{i}-{s}-{c}-{v or 'none'}-{'emg' if e else 'std'}" for i, s, c, v, e in CASES],
)
def test_art4_issuer_validator_table(
    instrument: str, issuer: str, category: str, validator: str | None, emergency: bool
) -> None:
    allowed, code, para = expected(instrument, issuer, category, validator, emergency)
    decision = evaluate(_facts(instrument, issuer, category, validator, emergency))
    verdict = decision.verdict(category)
    assert verdict is not None
    assert verdict.allowed is allowed, (verdict, decision.codes())
    if allowed:
        assert verdict.reason_code == "allowed"
        assert f"{para}" in verdict.legal_basis, verdict.legal_basis
        assert decision.route == "accepted", decision.codes()
        if code != "allowed":
            assert code in decision.codes()
        # An allowed category keeps its deadline: production (8 h / 10 days) or preservation.
        kinds = {d.kind for d in decision.deadlines}
        assert ("production_due" if instrument == "epoc" else "preservation_expiry") in kinds
        assert decision.target_status in (
            ("verification_hold",) if emergency else ("in_review", "preserving")
        )
    else:
        assert verdict.reason_code == code, decision.codes()
        assert para in verdict.legal_basis, verdict.legal_basis
        # The engine proposes; a person decides (§13.12): never a machine-final state.
        assert decision.route == "not_executable"
        assert decision.target_status == "in_review"


def test_the_table_covers_every_combination() -> None:
    assert len(CASES) == 2 * 6 * 4 * 7 * 2
    outcomes = {expected(*case)[1] for case in CASES}
    assert outcomes == {
        "allowed",
        "EE_EX_POST_VALIDATION_PENDING",
        "EE_NO_EMERGENCY_EXCEPTION",
        "EE_VALIDATION_REQUIRED",
        "EE_VALIDATOR_NOT_COMPETENT",
    }


# Two hard cases the table implies, written out.
def test_administrative_authority_traffic_needs_a_judge_not_a_prosecutor() -> None:
    judge = evaluate(_facts("epoc", "administrative", "traffic", "investigating_judge", False))
    prosecutor = evaluate(_facts("epoc", "administrative", "traffic", "prosecutor", False))
    assert judge.verdict("traffic").allowed  # type: ignore[union-attr]
    assert prosecutor.verdict("traffic").reason_code == "EE_VALIDATOR_NOT_COMPETENT"  # type: ignore[union-attr]


def test_emergency_preservation_with_a_police_validation_is_preserved_not_refused() -> None:
    decision = evaluate(_facts("epoc_pr", "other_competent", "content", "other_competent", True))
    assert decision.route == "accepted"
    assert "EE_EMERGENCY_VALIDATOR_NOT_COMPETENT" in decision.codes()
    assert any(d.kind == "ex_post_validation_mark" for d in decision.deadlines)
