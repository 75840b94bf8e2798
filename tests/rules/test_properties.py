"""Properties over generated requests (Hypothesis)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from requests_app.rules import (
    Issuer,
    LinkedRequest,
    Offence,
    ProviderConfig,
    RequestFacts,
    SentenceExecution,
    Target,
    Validation,
    evaluate,
    restart_after_clarification,
)
from requests_app.rules import vocab as v

COUNTRIES = ["DE", "FR", "IT", "IE", "DK", "BE", "NL", "US", "IN", "GB", "BR"]
START = datetime(2026, 8, 18, tzinfo=UTC)
RANK = {"not_executable": 0, "clarification_required": 1, "partially_accepted": 2, "accepted": 3}
STATUS = {
    # The engine proposes, a person decides (domain.md §13.12): never a final state.
    "rerouted": {"in_review"},
    "not_executable": {"in_review"},
    "clarification_required": {"clarification_requested"},
    "accepted": {"in_review", "verification_hold", "awaiting_enforcing_authority", "preserving"},
}
STATUS["partially_accepted"] = STATUS["accepted"]

moments = st.integers(0, 3 * 365 * 24 * 60).map(lambda m: START + timedelta(minutes=m))
targets = st.sampled_from(
    [
        Target("username", "@suspect_account"),
        Target("username", "Jean Dupont"),
        Target("user_id", "42424242"),
        Target("phone", "+32 470 12 34 56"),
        Target("email", "someone@example.org"),
        Target("email", "not-an-email"),
        Target("ip_address", "2001:db8::1", START - timedelta(days=1)),
        Target("ip_address", "192.0.2.1"),
        Target("channel_url", "https://t.me/somechannel"),
        Target("message_url", "t.me/somechannel/99"),
        Target("message_url", "https://example.com/x/1"),
    ]
)
offences = st.one_of(
    st.none(),
    st.builds(
        Offence,
        description=st.sampled_from(["", "Fraud"]),
        legal_provisions=st.sampled_from(["", "§ 1"]),
        max_sentence_months=st.one_of(st.none(), st.integers(0, 240)),
        listed_offence=st.one_of(st.none(), st.sampled_from(sorted(v.LISTED_OFFENCES))),
        via_information_system=st.booleans(),
        sentence_execution=st.one_of(
            st.none(),
            st.builds(SentenceExecution, st.integers(0, 24), st.booleans(), st.booleans()),
        ),
    ),
)
validations = st.one_of(
    st.none(),
    st.builds(
        Validation, st.sampled_from(sorted(v.AUTHORITY_TYPES)), st.just("Validating authority")
    ),
)


@st.composite
def linked_requests(draw: st.DrawFn, received: datetime) -> LinkedRequest | None:
    if draw(st.booleans()):
        return None
    return LinkedRequest(
        reference="LRP-2026-000001",
        instrument=draw(st.sampled_from(["epoc_pr", "us_preservation", "epoc"])),
        received_at=received - timedelta(days=draw(st.integers(-5, 200))),
        status=draw(st.sampled_from(["preserving", "released"])),
        extensions_count=draw(st.integers(0, 2)),
        confirmed=draw(st.booleans()),
    )


@st.composite
def requests(draw: st.DrawFn) -> RequestFacts:
    received = draw(moments)
    return RequestFacts(
        instrument=draw(st.sampled_from(sorted(v.INSTRUMENTS))),
        issuer=Issuer(
            draw(st.sampled_from(sorted(v.AUTHORITY_TYPES))), draw(st.sampled_from(COUNTRIES))
        ),
        received_at=received,
        data_categories=draw(st.frozensets(st.sampled_from(v.CATEGORIES))),
        targets=tuple(draw(st.lists(targets, max_size=3))),
        data_from=draw(st.one_of(st.none(), moments)),
        data_to=draw(st.one_of(st.none(), moments)),
        summary=draw(st.sampled_from(["", "Summary"])),
        offence=draw(offences),
        emergency=draw(st.booleans()),
        emergency_reason=draw(st.sampled_from(["", "Threat to life"])),
        validation=draw(validations),
        enforcing_authority_notified=draw(st.booleans()),
        art_8_2_exception=draw(st.booleans()),
        confidential=draw(st.booleans()),
        linked=draw(linked_requests(received)),
        language=draw(st.sampled_from(["", "en", "fi"])),
        suspect_named=draw(st.sampled_from([None, True, False])),
        addressee_country=draw(st.sampled_from([None, None, "DK", "NL"])),
    )


configs = st.sampled_from(
    [
        ProviderConfig(),
        ProviderConfig(establishment_country="IE", us_allow_further_renewals=True),
        ProviderConfig(bound_member_states=v.EU_MEMBER_STATES - {"DK", "IE"}, us_sca_applies=False),
    ]
)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(requests(), configs)
def test_no_deadline_before_receipt(facts: RequestFacts, config: ProviderConfig) -> None:
    for deadline in evaluate(facts, config).deadlines:
        assert deadline.due_at >= facts.received_at, deadline
        assert deadline.due_at.tzinfo is UTC
        if deadline.warn_at is not None:
            assert facts.received_at <= deadline.warn_at <= deadline.due_at


@SETTINGS
@given(requests(), configs, st.integers(0, 30 * 24))
def test_no_deadline_before_receipt_after_clarification(
    facts: RequestFacts, config: ProviderConfig, hours: int
) -> None:
    arrived = facts.received_at + timedelta(hours=hours)
    for deadline in restart_after_clarification(
        facts, config, clarification_received_at=arrived
    ).deadlines:
        assert deadline.due_at >= facts.received_at


@SETTINGS
@given(requests(), configs, st.sampled_from(sorted(v.JUDICIAL)))
def test_a_judges_validation_never_makes_a_request_less_acceptable(
    facts: RequestFacts, config: ProviderConfig, judge_type: str
) -> None:
    before = evaluate(replace(facts, validation=None), config)
    after = evaluate(replace(facts, validation=Validation(judge_type, "Tribunal")), config)
    if before.route == "rerouted":
        assert after.route == "rerouted"
    elif after.route != "rerouted":
        assert RANK[after.route] >= RANK[before.route], (before.codes(), after.codes())
    allowed_before = {x.data_category for x in before.verdicts if x.allowed}
    allowed_after = {x.data_category for x in after.verdicts if x.allowed}
    assert allowed_before <= allowed_after


@SETTINGS
@given(requests(), configs)
def test_same_input_same_decision(facts: RequestFacts, config: ProviderConfig) -> None:
    first, second = evaluate(facts, config), evaluate(facts, config)
    assert first == second
    assert json.dumps(first.to_dict(), sort_keys=True) == json.dumps(
        second.to_dict(), sort_keys=True
    )


@SETTINGS
@given(requests(), configs)
def test_decision_is_consistent(facts: RequestFacts, config: ProviderConfig) -> None:
    decision = evaluate(facts, config)
    assert decision.target_status in STATUS[decision.route]
    assert decision.rulebook_version == v.RULEBOOK_VERSION
    assert [x.data_category for x in decision.verdicts] == [
        c for c in v.CATEGORIES if c in facts.data_categories
    ]
    for finding in decision.findings:
        assert finding.legal_basis and "{" not in finding.message
        if facts.instrument not in v.EEVIDENCE_INSTRUMENTS:
            assert finding.annex_iii_reason is None
    for verdict in decision.verdicts:
        assert verdict.allowed == (verdict.reason_code == "allowed")
    if decision.route == "rerouted":
        assert decision.deadlines == ()


@SETTINGS
@given(requests())
def test_epoc_traffic_and_content_only_on_art_4_2_and_5_4(facts: RequestFacts) -> None:
    """The law, stated independently of the implementation: an EPOC reaches traffic or
    content data only on the order of a judge (issuing or validating an other competent
    authority's order) for a serious offence (Art. 4(2), 5(4))."""
    facts = replace(facts, instrument="epoc")
    decision = evaluate(facts)
    offence = facts.offence
    for verdict in decision.verdicts:
        if verdict.data_category not in v.SERIOUS_CATEGORIES or not verdict.allowed:
            continue
        issuer = facts.issuer.authority_type
        # Art. 4(2)(b): "any other competent authority" acting as investigating authority in
        # criminal proceedings (a public prosecutor, an administrative authority included) with
        # a judge's validation (domain §13.1): never without it, whoever issued.
        assert issuer in v.JUDICIAL or (
            facts.validation is not None and facts.validation.authority_type in v.JUDICIAL
        )
        assert offence is not None
        assert (
            offence.listed_offence == v.TERRORISM
            or (offence.max_sentence_months or 0) >= 36
            or (offence.listed_offence is not None and offence.via_information_system)
        )
        se = offence.sentence_execution
        assert se is None or (se.sentence_months >= 4 and not se.in_absentia and se.absconded)
        assert facts.issuer.country in v.EU_MEMBER_STATES - {"DK", "BE"}
