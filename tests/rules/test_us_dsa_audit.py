# mypy: disable-error-code="union-attr"
"""The audit's US and DSA classes of error (domain.md §13.7-§13.9, §13.13)."""

from __future__ import annotations

from functools import partial

import pytest

from requests_app.rules import ProviderConfig as _ProviderConfig
from requests_app.rules import evaluate as _evaluate
from requests_app.rules.catalogue import CATALOGUE

from .builders import IP, MESSAGE, dsa_details, facts, judge

# These cases are for a provider the SCA binds (§13.7: "where the provider's configuration
# says the SCA applies"); the default configuration says it does not (test_third_audit).
ProviderConfig = partial(_ProviderConfig, us_sca_applies=True)


def evaluate(request, config=None):  # type: ignore[no-untyped-def]
    return _evaluate(request, config or ProviderConfig())


def _emergency(country: str, *categories: str, config: _ProviderConfig | None = None, **extra):  # type: ignore[no-untyped-def]
    return evaluate(
        facts(
            "emergency_disclosure",
            ("other_competent", country),
            categories,
            emergency=True,
            emergency_reason="Hostage taking, threat to life",
            **extra,
        ),
        config or ProviderConfig(),
    )


# --- §13.7 SCA: US governmental entities v. foreign authorities --------------------------


def test_us_authority_gets_the_emergency_exceptions() -> None:
    d = _emergency("US", "subscriber", "content")
    assert d.verdict("content").allowed and "2702(b)(8)" in d.verdict("content").legal_basis
    assert d.verdict("subscriber").allowed and "2702(c)(4)" in d.verdict("subscriber").legal_basis
    assert "US_FOREIGN_AUTHORITY" not in d.codes()


def test_foreign_authority_contents_barred_records_by_policy() -> None:
    d = _emergency("DE", "subscriber", "content")
    content, subscriber = d.verdict("content"), d.verdict("subscriber")
    assert not content.allowed and content.reason_code == "US_FOREIGN_CONTENT_BARRED"
    assert "2702(b)(9)" in content.legal_basis and "2523" in content.legal_basis
    assert subscriber.allowed and "2702(c)(6)" in subscriber.legal_basis
    assert {"US_FOREIGN_AUTHORITY", "US_FOREIGN_RECORDS_POLICY"} <= set(d.codes())
    authority = next(f for f in d.findings if f.code == "US_FOREIGN_AUTHORITY")
    assert "2711(4)" in authority.legal_basis
    assert d.route == "partially_accepted" and d.target_status == "verification_hold"


def test_records_to_foreign_authorities_can_be_switched_off() -> None:
    d = _emergency("FR", "identification", config=ProviderConfig(foreign_records_disclosure=False))
    assert d.verdict("identification").reason_code == "US_FOREIGN_RECORDS_NOT_DISCLOSED"


@pytest.mark.parametrize("country", ["GB", "AU"])
def test_contents_under_a_2523_agreement_go_to_review(country: str) -> None:
    # § 2702(b)(9): "pursuant to an order": here one validated by a judge (tests/rules/
    # test_second_audit.py has the request without an order).
    d = _emergency(country, "content", validation=judge("Westminster Magistrates' Court"))
    assert d.verdict("content").allowed
    assert "2702(b)(9)" in d.verdict("content").legal_basis
    assert "US_FOREIGN_2523_AGREEMENT" in d.codes()
    assert d.target_status == "verification_hold"  # a person decides


def test_the_2523_list_is_a_setting() -> None:
    d = _emergency("GB", "content", config=ProviderConfig(sca_2523_agreements=frozenset({"AU"})),
                   validation=judge())
    assert d.verdict("content").reason_code == "US_FOREIGN_CONTENT_BARRED"


# --- §13.8 the US process ladder ----------------------------------------------------------


def test_subpoena_reaches_session_records_and_assigned_addresses() -> None:
    d = evaluate(
        facts("us_subpoena", ("other_competent", "US"), ("subscriber", "identification"),
              targets=(IP,))
    )
    assert d.verdict("subscriber").allowed and d.verdict("identification").allowed
    assert "2703(c)(2)" in d.verdict("identification").legal_basis


@pytest.mark.parametrize("instrument", ["us_court_order", "us_subpoena"])
def test_contents_on_a_2703d_order_are_refused_by_policy_citing_warshak(instrument: str) -> None:
    d = evaluate(facts(instrument, ("judge", "US"), ("content",)))
    verdict = d.verdict("content")
    assert not verdict.allowed and verdict.reason_code == "US_REQUIRES_WARRANT"
    assert "Warshak" in verdict.legal_basis and verdict.legal_basis.startswith("Provider policy")
    assert "2703(a)" not in verdict.legal_basis  # the statute does not demand it
    warrant = evaluate(facts("us_search_warrant", ("judge", "US"), ("content",)))
    assert warrant.verdict("content").allowed


# --- §13.9 DSA -----------------------------------------------------------------------------


def test_art9_order_never_authorises_data_but_the_content_is_acted_on() -> None:
    d = evaluate(
        facts("dsa_removal_order", ("administrative", "FR"), ("subscriber", "content"),
              targets=(MESSAGE,), dsa=dsa_details())
    )
    for category in ("subscriber", "content"):
        verdict = d.verdict(category)
        assert not verdict.allowed and verdict.reason_code == "DSA9_NO_DATA_DISCLOSURE"
    refusal = next(f for f in d.findings if f.code == "DSA9_NO_DATA_DISCLOSURE")
    assert "Art. 10" in refusal.message and "criminal procedure" in refusal.message
    assert d.route == "partially_accepted"  # act against the content; no data
    assert "DSA9_INFORM_EFFECT" in d.codes()


def test_art10_reasons_withheld_only_for_criminal_offences() -> None:
    criminal = evaluate(
        facts("dsa_information_order", ("prosecutor", "FR"), ("subscriber",),
              dsa=dsa_details(statement_of_reasons=""))
    )
    assert "DSA10_REASONS_WITHHELD" in criminal.codes() and criminal.route == "accepted"
    other = evaluate(
        facts("dsa_information_order", ("administrative", "FR"), ("subscriber",),
              dsa=dsa_details(statement_of_reasons=""))
    )
    assert "DSA10_REASONS_MISSING" in other.codes()
    assert other.route == "clarification_required"
    assert "DSA10_REASONS_WITHHELD" not in other.codes()


def test_art10_for_private_content_goes_to_a_person() -> None:
    d = evaluate(
        facts("dsa_information_order", ("judge", "FR"), ("content",), dsa=dsa_details())
    )
    assert "DSA10_PRIVATE_CONTENT_REVIEW" in d.codes()
    assert d.target_status == "in_review"


# --- §13.13 texts shown to authorities ----------------------------------------------------


def test_us_and_dsa_texts_cite_no_internal_document() -> None:
    for code, spec in CATALOGUE.items():
        if code.startswith(("US_", "EMG_", "DSA")):
            for text in (spec.message, spec.legal_basis):
                assert "domain.md" not in text and "§13" not in text, code
