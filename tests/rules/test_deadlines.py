"""Deadline arithmetic: domain.md §1.8 and the §12.2 product rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from requests_app.rules import (
    CALENDAR,
    LATER_OF_1182,
    DayRule,
    ProviderConfig,
    evaluate,
    recompute_deadlines,
    restart_after_clarification,
)
from requests_app.rules.config import EE_EA_WINDOW, EE_PRESERVATION, EE_PRODUCTION
from requests_app.rules.deadlines import reg_1182_end

from .builders import IP, facts

THURSDAY = datetime(2026, 9, 10, 14, 0, tzinfo=UTC)  # + 10 days = Sunday 20 September


def _by_kind(decision):  # type: ignore[no-untyped-def]
    return {d.kind: d for d in decision.deadlines}


def _config(**rules: DayRule) -> ProviderConfig:
    base = dict(ProviderConfig().day_rules)
    base.update(rules)
    return ProviderConfig(day_rules=MappingProxyType(base))


def test_our_production_duty_counts_calendar_days_even_into_a_weekend() -> None:
    d = evaluate(facts(received_at=THURSDAY))
    due = _by_kind(d)["production_due"]
    assert due.due_at == THURSDAY + timedelta(days=10)  # Sunday: never later
    assert due.rule_applied == CALENDAR
    assert "calendar days" in due.explanation


def test_enforcing_authority_window_is_the_later_of_calendar_and_1182_end() -> None:
    d = evaluate(
        facts(received_at=THURSDAY, categories=("content",), enforcing_authority_notified=True)
    )
    window = _by_kind(d)["ea_window_end"]
    # Last day Sunday 20 → end of Monday 21 September, Brussels and Berlin time (CEST).
    assert window.due_at == datetime(2026, 9, 21, 22, 0, tzinfo=UTC)
    assert window.rule_applied == LATER_OF_1182 and window.not_before
    assert "1182/71" in window.explanation
    production = _by_kind(d)["production_due"]
    assert production.due_at == window.due_at  # transmit at the end of the window
    assert d.deadlines[0] is production  # the response's due_at


def test_preservation_expiry_moves_past_a_public_holiday() -> None:
    received = datetime(2026, 9, 12, 8, 0, tzinfo=UTC)  # + 60 days = Wed 11 Nov, Armistice
    d = evaluate(facts("epoc_pr", ("judge", "FR"), ("content",), received_at=received))
    expiry = _by_kind(d)["preservation_expiry"]
    assert expiry.due_at == datetime(2026, 11, 12, 23, 0, tzinfo=UTC)  # end of Thu 12 Nov, CET
    assert "BE (every region), FR (every region) public holidays" in expiry.explanation


def test_holiday_then_weekend() -> None:
    received = datetime(2026, 10, 26, 12, 0, tzinfo=UTC)  # + 60 days = Fri 25 Dec
    assert reg_1182_end(received, 60, "BE") == datetime(2026, 12, 28, 23, 0, tzinfo=UTC)


def test_holiday_country_follows_the_establishment() -> None:
    received = datetime(2026, 9, 12, 8, 0, tzinfo=UTC)  # 11 Nov is no holiday in Ireland
    d = evaluate(
        facts("epoc_pr", ("judge", "FR"), ("content",), received_at=received),
        ProviderConfig(establishment_country="IE", issuer_holidays=False),
    )
    assert _by_kind(d)["preservation_expiry"].due_at == datetime(2026, 11, 11, 23, 0, tzinfo=UTC)


def test_config_change_recomputes_open_deadlines() -> None:
    received = datetime(2026, 9, 12, 8, 0, tzinfo=UTC)
    request = facts("epoc_pr", ("judge", "FR"), ("content",), received_at=received)
    before = recompute_deadlines(request)
    after = recompute_deadlines(request, _config(**{EE_PRESERVATION: DayRule(CALENDAR)}))
    assert before[0].due_at == datetime(2026, 11, 12, 23, 0, tzinfo=UTC)
    assert after[0].due_at == received + timedelta(days=60)
    assert after[0].rule_applied == CALENDAR


def test_production_can_be_switched_to_1182() -> None:
    config = _config(**{EE_PRODUCTION: DayRule(LATER_OF_1182)})
    due = evaluate(facts(received_at=THURSDAY), config).deadlines[0]
    assert due.due_at == datetime(2026, 9, 21, 22, 0, tzinfo=UTC)


def test_hour_periods_are_never_shifted() -> None:
    saturday = datetime(2026, 12, 26, 22, 15, tzinfo=UTC)  # also Boxing Day
    d = evaluate(
        facts(
            received_at=saturday,
            emergency=True,
            emergency_reason="Threat",
            categories=("content",),
            enforcing_authority_notified=True,
        )
    )
    kinds = _by_kind(d)
    assert kinds["production_due"].due_at == saturday + timedelta(hours=8)
    assert kinds["production_due"].rule_applied == "hours"
    assert kinds["ea_objection_window_end"].due_at == saturday + timedelta(hours=96)


def test_ex_post_validation_mark_is_information_only() -> None:
    d = evaluate(
        facts(issuer=("other_competent", "DE"), emergency=True, emergency_reason="Threat to life")
    )
    mark = _by_kind(d)["ex_post_validation_mark"]
    assert mark.informational and mark.due_at == d.deadlines[0].due_at + timedelta(hours=40)
    assert d.primary_deadline is not None and d.primary_deadline.kind == "production_due"


def test_warn_at_lies_inside_the_period() -> None:
    d = evaluate(facts())
    due = d.deadlines[0]
    assert due.warn_at == facts().received_at + timedelta(days=8)
    quick = evaluate(facts(), ProviderConfig(warn_ratio=0.5)).deadlines[0]
    assert quick.warn_at == facts().received_at + timedelta(days=5)


def test_clarification_restart_respects_the_enforcing_authority_window() -> None:
    request = facts(
        received_at=THURSDAY, categories=("content",), enforcing_authority_notified=True
    )
    soon = restart_after_clarification(request, clarification_received_at=THURSDAY)
    kinds = _by_kind(soon)
    assert kinds["production_due"].due_at == kinds["ea_window_end"].due_at
    later = restart_after_clarification(
        request, clarification_received_at=THURSDAY + timedelta(days=4)
    )
    kinds = _by_kind(later)
    assert kinds["ea_window_end"].due_at == datetime(2026, 9, 21, 22, 0, tzinfo=UTC)  # unchanged
    assert kinds["production_due"].due_at == THURSDAY + timedelta(days=14)


def test_clarification_never_restarts_preservation() -> None:
    request = facts("epoc_pr", ("judge", "FR"), ("content",))
    original = recompute_deadlines(request)
    restarted = restart_after_clarification(
        request, clarification_received_at=request.received_at + timedelta(days=20)
    )
    assert restarted.deadlines == original


def test_clarification_before_receipt_is_refused() -> None:
    with pytest.raises(ValueError):
        restart_after_clarification(
            facts(), clarification_received_at=facts().received_at - timedelta(hours=1)
        )


def test_naive_receipt_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        evaluate(facts(received_at=datetime(2026, 9, 1, 9, 0)))


def test_unknown_vocabulary_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        evaluate(facts(instrument="subpoena"))
    with pytest.raises(ValueError):
        evaluate(facts(categories=("metadata",)))


def test_us_preservation_renewal_runs_from_the_current_expiry() -> None:
    from requests_app.rules import LinkedRequest, ProviderConfig

    sca = ProviderConfig(us_sca_applies=True)
    first_received = facts().received_at - timedelta(days=80)
    linked = LinkedRequest("LRP-2", "us_preservation", first_received, "preserving")
    d = evaluate(facts("us_preservation", ("other_competent", "US"), ("content",), linked=linked), sca)
    # The latest local end (test_third_audit): never before 180 x 24 h, at a local midnight.
    assert d.deadlines[0].due_at >= first_received + timedelta(days=180)
    assert d.deadlines[0].due_at < first_received + timedelta(days=183)
    late = evaluate(
        facts(
            "us_preservation",
            ("other_competent", "US"),
            ("content",),
            linked=linked,
            received_at=first_received + timedelta(days=92),
        ),
        sca,
    )
    assert "US_RENEWAL_AFTER_EXPIRY" in late.codes()
    assert late.deadlines[0].due_at >= first_received + timedelta(days=182)


def test_identification_deadline_with_targets() -> None:
    d = evaluate(facts(categories=("identification",), targets=(IP,)))
    assert d.deadlines[0].kind == "production_due"


def test_keys_are_documented() -> None:
    assert {EE_PRODUCTION, EE_EA_WINDOW, EE_PRESERVATION} <= set(ProviderConfig().day_rules)
