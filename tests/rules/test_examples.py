"""The example scenarios of domain.md §9, one test each (numbering as in §9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from requests_app.rules import (
    LinkedRequest,
    Offence,
    ProviderConfig,
    Target,
    Validation,
    art18_referral,
    assess_art17_objection,
    assess_ea_objection,
    evaluate,
    legal_team_finding,
    preservation_release,
    restart_after_clarification,
)

from .builders import IP, MESSAGE, T0, USER, dsa_details, facts, judge, linked_pr

REG = "Reg. (EU) 2023/1543 Art. "
CONFIG = ProviderConfig()


def _verdicts(decision):  # type: ignore[no-untyped-def]
    return {v.data_category: v.allowed for v in decision.verdicts}


def test_01_denmark_issuer_is_rerouted() -> None:
    d = evaluate(facts(issuer=("other_competent", "DK"), validation=judge()))
    assert (d.route, d.target_status) == ("rerouted", "in_review")
    assert _verdicts(d) == {"subscriber": False}
    assert d.findings[0].code == "EE_MS_NOT_BOUND"
    assert d.findings[0].legal_basis.startswith(REG + "3(1)-(2)")
    assert "MLA" in d.findings[0].message


def test_02_addressee_in_denmark_is_invalid() -> None:
    d = evaluate(facts(addressee_country="DK"))
    assert (d.route, d.target_status) == ("not_executable", "in_review")
    finding = d.findings[0]
    assert (finding.code, finding.annex_iii_reason) == ("EE_ADDRESSEE_MS_NOT_BOUND", "other")
    # Art. 7(2): in an emergency another establishment in a *bound* member state may receive
    # it only where the designated one failed to react; Denmark remains excluded.
    assert evaluate(facts(addressee_country="DK", emergency=True)).route == "not_executable"
    nl = evaluate(
        facts(
            addressee_country="NL",
            emergency=True,
            emergency_reason="Hostage",
            designated_unresponsive=True,
        )
    )
    assert nl.route == "accepted" and "EE_EMERGENCY_ADDRESSEE" in nl.codes()
    forwarded = evaluate(facts(addressee_country="NL", emergency=True, emergency_reason="Hostage"))
    assert forwarded.route == "accepted"
    assert "EE_EMERGENCY_FORWARD_TO_DESIGNATED" in forwarded.codes()
    # Art. 7(1): not an emergency, so forwarded to the designated establishment, never refused.
    assert evaluate(facts(addressee_country="NL")).route == "accepted"


def test_03_domestic_order_goes_to_national_law() -> None:
    d = evaluate(facts(issuer=("prosecutor", "BE")))
    assert d.route == "rerouted"
    assert d.findings[0].legal_basis == REG + "1(1) second subparagraph"
    assert d.deadlines == ()


def test_04_police_with_prosecutor_validation_subscriber() -> None:
    d = evaluate(
        facts(issuer=("other_competent", "DE"), validation=Validation("prosecutor", "StA Köln"))
    )
    assert d.route == "accepted"
    assert d.verdicts[0].legal_basis == REG + "4(1)(b), 5(3)"
    assert not any(f.code.startswith("EE_EA_NOTIFIED") for f in d.findings)
    due = d.primary_deadline
    assert due is not None and due.due_at == T0 + timedelta(days=10)
    assert due.legal_basis == REG + "10(3)"


def test_07_prosecutor_content_production_needs_judicial_validation_preservation_not() -> None:
    """Art. 4(2)(b) as corrected by the audit: a prosecutor's content order is valid once a
    judge validated it; without validation it is proposed for non-execution."""
    production = evaluate(facts(issuer=("prosecutor", "IT"), categories=("content",)))
    assert production.route == "not_executable"
    refusal = next(f for f in production.findings if f.code == "EE_VALIDATION_REQUIRED")
    assert refusal.annex_iii_reason == "not_issued_per_art_4"
    assert refusal.legal_basis == REG + "4(2)(b)"
    validated = evaluate(
        facts(
            issuer=("prosecutor", "IT"),
            categories=("content",),
            validation=Validation("investigating_judge", "GIP Milano"),
            enforcing_authority_notified=True,
        )
    )
    assert validated.route == "accepted"
    assert validated.target_status == "awaiting_enforcing_authority"
    assert "EE_PRESERVE_ON_RECEIPT" in production.codes()  # preserve meanwhile
    preservation = evaluate(facts("epoc_pr", ("prosecutor", "IT"), ("content",)))
    assert (preservation.route, preservation.target_status) == ("accepted", "preserving")
    expiry = preservation.deadlines[0]
    assert expiry.kind == "preservation_expiry" and expiry.due_at >= T0 + timedelta(days=60)


def test_09_one_year_offence_blocks_traffic_and_content_only() -> None:
    d = evaluate(
        facts(
            categories=("subscriber", "identification", "traffic", "content"),
            targets=(USER, IP),
            art_8_2_exception=True,
            offence=Offence("Online insult", "CP art. 595", 12),
        )
    )
    assert d.route == "partially_accepted"
    assert _verdicts(d) == {
        "subscriber": True,
        "identification": True,
        "traffic": False,
        "content": False,
    }
    refusals = [f for f in d.findings if f.code == "EE_OFFENCE_BELOW_THRESHOLD"]
    assert {f.data_category for f in refusals} == {"traffic", "content"}
    assert all(f.annex_iii_reason == "offence_outside_art_5_4" for f in refusals)
    assert all(f.legal_basis == REG + "5(4)(a)" for f in refusals)


def test_13_art_8_2_exception_no_suspensive_effect() -> None:
    d = evaluate(
        facts(
            issuer=("judge", "IT"),
            categories=("traffic",),
            art_8_2_exception=True,
            person_residence_country="IT",
        )
    )
    assert (d.route, d.target_status) == ("accepted", "in_review")
    assert [x.kind for x in d.deadlines] == ["production_due"]
    assert d.deadlines[0].due_at == T0 + timedelta(days=10)
    mismatch = evaluate(
        facts(
            issuer=("judge", "IT"),
            categories=("traffic",),
            art_8_2_exception=True,
            person_residence_country="FR",
        )
    )
    assert "EE_ART_8_2_RESIDENCE_MISMATCH" in mismatch.codes()


def test_15_emergency_with_notification() -> None:
    request = facts(
        categories=("content",),
        emergency=True,
        emergency_reason="Imminent attack",
        enforcing_authority_notified=True,
    )
    d = evaluate(request)
    assert (d.route, d.target_status) == ("accepted", "verification_hold")
    kinds = {x.kind: x for x in d.deadlines}
    assert kinds["production_due"].due_at == T0 + timedelta(hours=8)
    assert kinds["ea_objection_window_end"].due_at == T0 + timedelta(hours=96)
    assert kinds["ea_objection_window_end"].informational
    assert "ea_window_end" not in kinds  # no suspensive effect in emergencies
    in_time = assess_ea_objection(request, CONFIG, objection_received_at=T0 + timedelta(hours=70))
    assert in_time.code == "EE_EA_OBJECTION_USE_RESTRICTED"
    late = assess_ea_objection(request, CONFIG, objection_received_at=T0 + timedelta(hours=97))
    assert late.code == "EE_EA_OBJECTION_LATE"


def test_16_incomplete_certificate_asks_for_clarification() -> None:
    naive = Target("ip_address", "198.51.100.4", datetime(2026, 8, 20, 12, 0))
    d = evaluate(
        facts(
            categories=("identification",),
            targets=(
                Target("ip_address", "198.51.100.3"),
                naive,
                Target("username", "Max Mustermann"),
            ),
        )
    )
    assert (d.route, d.target_status) == ("clarification_required", "clarification_requested")
    by_field = {f.field: f for f in d.findings if f.severity == "error"}
    assert by_field["targets[0]"].code == "TGT_IP_NO_TIMESTAMP"
    assert by_field["targets[1]"].code == "TGT_TIMESTAMP_NO_TIMEZONE"
    assert by_field["targets[2]"].code == "TGT_DISPLAY_NAME"
    assert {f.annex_iii_reason for f in by_field.values()} == {"insufficient_information"}
    assert "EE_PRESERVE_ON_RECEIPT" in d.codes()
    reminder = next(x for x in d.deadlines if x.kind == "clarification_reminder")
    assert reminder.due_at == T0 + timedelta(days=5) and reminder.informational
    assert d.primary_deadline is None  # the production period does not run


def test_16_clarification_restarts_the_period() -> None:
    clarified = facts(categories=("identification",), targets=(IP,))
    on_time = restart_after_clarification(
        clarified, CONFIG, clarification_received_at=T0 + timedelta(days=3)
    )
    assert on_time.primary_deadline is not None
    assert on_time.primary_deadline.due_at == T0 + timedelta(days=13)
    assert "arrival of the clarification" in on_time.primary_deadline.explanation
    assert "CLARIFICATION_AFTER_DEADLINE" not in on_time.codes()
    late = restart_after_clarification(
        clarified, CONFIG, clarification_received_at=T0 + timedelta(days=12)
    )
    assert late.primary_deadline is not None
    assert late.primary_deadline.due_at == T0 + timedelta(days=22)
    assert "CLARIFICATION_AFTER_DEADLINE" in late.codes()


def test_17_manifest_error_other_service() -> None:
    d = evaluate(facts(targets=(Target("message_url", "https://wa.me/channel/55"),)))
    assert d.route == "clarification_required"
    finding = next(f for f in d.findings if f.code == "TGT_FOREIGN_SERVICE")
    assert finding.annex_iii_reason == "manifest_errors"


def test_18_data_not_stored_at_receipt() -> None:
    future = evaluate(facts(data_from=T0 + timedelta(days=1), data_to=T0 + timedelta(days=30)))
    assert future.route == "not_executable"
    refusal = next(f for f in future.findings if f.code == "RANGE_AFTER_RECEIPT")
    assert refusal.annex_iii_reason == "data_not_stored"
    assert refusal.legal_basis == REG + "3(8)"
    purged = legal_team_finding("EE_DATA_NOT_STORED", category="content")
    assert purged.annex_iii_reason == "data_not_stored"
    assert purged.legal_basis.startswith(REG + "3(8)")


def test_19_preservation_full_lifecycle() -> None:
    pr = facts("epoc_pr", ("judge", "FR"), ("content",))
    first = evaluate(pr)
    assert first.target_status == "preserving"
    day0 = T0
    extension = evaluate(
        facts(
            "preservation_extension",
            ("judge", "FR"),
            ("content",),
            received_at=day0 + timedelta(days=55),
            linked=linked_pr(0),
        )
    )
    assert extension.route == "accepted"
    expiry = extension.deadlines[0]
    assert expiry.kind == "preservation_expiry"
    assert day0 + timedelta(days=90) <= expiry.due_at <= day0 + timedelta(days=94)
    confirmation = evaluate(
        facts(
            "production_confirmation",
            ("judge", "FR"),
            ("content",),
            received_at=day0 + timedelta(days=85),
            linked=linked_pr(0, extensions_count=1, preservation_expires_at=expiry.due_at),
        )
    )
    assert (confirmation.route, confirmation.target_status) == ("accepted", "preserving")
    assert "EE_PRESERVE_UNTIL_PRODUCTION" in confirmation.codes()
    assert confirmation.deadlines == ()  # kept until production, no fixed end
    production = evaluate(
        facts(
            issuer=("judge", "FR"),
            categories=("content",),
            received_at=day0 + timedelta(days=120),
            art_8_2_exception=True,
        )
    )
    assert production.route == "accepted"


def test_19_late_or_second_extension_refused() -> None:
    late = evaluate(
        facts("preservation_extension", ("judge", "FR"), ("content",), linked=linked_pr(70))
    )
    assert late.route == "not_executable"
    assert "EE_EXTENSION_LATE" in late.codes()
    second = evaluate(
        facts(
            "preservation_extension",
            ("judge", "FR"),
            ("content",),
            linked=linked_pr(40, extensions_count=1),
        )
    )
    assert second.route == "not_executable"
    assert "EE_EXTENSION_ALREADY_USED" in second.codes()
    orphan = evaluate(facts("production_confirmation", ("judge", "FR"), ("content",)))
    assert orphan.route == "clarification_required"
    assert orphan.findings[0].annex_iii_reason == "insufficient_information"
    expired = evaluate(
        facts(
            "production_confirmation",
            ("judge", "FR"),
            ("content",),
            linked=linked_pr(100, extensions_count=1),
        )
    )
    assert "EE_CONFIRMATION_LATE" in expired.codes()


def test_22_early_release() -> None:
    finding, deadline = preservation_release(notified_at=T0 + timedelta(days=20))
    assert finding.code == "EE_PRESERVATION_RELEASED"
    assert deadline.due_at == T0 + timedelta(days=20)
    assert deadline.legal_basis == REG + "11(3)"


def test_23_third_country_conflict_late_objection() -> None:
    request = facts(categories=("content",), art_8_2_exception=True)
    on_time = assess_art17_objection(request, CONFIG, filed_at=T0 + timedelta(days=9))
    assert [f.code for f in on_time] == ["EE_THIRD_COUNTRY_CONFLICT"]
    assert on_time[0].annex_iii_reason == "third_country_conflict"
    late = assess_art17_objection(request, CONFIG, filed_at=T0 + timedelta(days=12))
    assert [f.code for f in late] == ["EE_THIRD_COUNTRY_CONFLICT", "EE_ART17_OBJECTION_LATE"]
    assert all(f.severity != "error" for f in late)  # soft: never an automatic refusal


def test_24_immunities_go_to_review() -> None:
    finding = legal_team_finding("EE_IMMUNITIES_CONCERN", category="content")
    assert (finding.severity, finding.annex_iii_reason) == ("warning", "immunities_privileges")
    assert "10(5)" in finding.legal_basis


def test_25_undeclared_language_goes_to_review() -> None:
    d = evaluate(facts(language="fi"))
    assert (d.route, d.target_status) == ("accepted", "in_review")
    finding = next(f for f in d.findings if f.code == "LANG_NOT_DECLARED")
    assert finding.severity == "warning" and finding.annex_iii_reason is None
    assert evaluate(facts(language="FR")).codes().count("LANG_NOT_DECLARED") == 0


def test_27_dsa_order_without_locator() -> None:
    d = evaluate(
        facts(
            "dsa_removal_order",
            ("administrative", "FR"),
            (),
            targets=(),
            dsa=dsa_details(content_urls=()),
        )
    )
    assert (d.route, d.target_status) == ("not_executable", "in_review")
    assert "DSA9_CANNOT_LOCATE" in d.codes()
    assert any(x.kind == "dsa_effect_report_due" for x in d.deadlines)  # tell the issuer
    assert all(f.annex_iii_reason is None for f in d.findings)  # Annex III is e-Evidence only
    with_link = evaluate(
        facts(
            "dsa_removal_order",
            ("administrative", "FR"),
            (),
            targets=(MESSAGE,),
            dsa=dsa_details(content_urls=()),
        )
    )
    assert with_link.route == "accepted"


def test_28_art18_referral() -> None:
    lyon = art18_referral(detected_at=T0, config=CONFIG, offence_state="FR")
    assert (lyon.member_states, lyon.europol) == (("FR",), False)
    assert lyon.deadline.due_at == T0 + timedelta(hours=1)
    unknown = art18_referral(detected_at=T0, config=CONFIG)
    assert (unknown.member_states, unknown.europol) == (("BE",), True)
    assert unknown.finding.legal_basis == "Reg. (EU) 2022/2065 Art. 18(1)-(2)"
    assert unknown.finding.rule_id == "R18"


def test_30_non_eu_content_request() -> None:
    content = evaluate(
        facts(
            "national_order",
            ("other_competent", "IN"),
            ("content",),
            validation=judge("Chief Judicial Magistrate"),
        )
    )
    assert (content.route, content.target_status) == ("rerouted", "in_review")
    assert "MLAT" in content.findings[-1].message
    ip_phone = evaluate(
        facts(
            "national_order",
            ("other_competent", "IN"),
            ("subscriber", "identification"),
            targets=(USER, IP),
            validation=judge("Chief Judicial Magistrate"),
            suspect_named=True,
        )
    )
    assert ip_phone.route == "accepted"
    assert "POL_SCOPE_LIMITED" in ip_phone.codes()


def test_32_national_order_from_another_member_state() -> None:
    d = evaluate(facts("national_order", ("court", "DE"), ("subscriber",)))
    assert "NAT_NOT_BINDING" in d.codes()
    assert "POL_SUSPECT_UNCONFIRMED" in d.codes()  # legal analysis under our policy
    assert d.route == "accepted" and d.target_status == "in_review"


def test_received_at_is_converted_to_utc() -> None:
    from zoneinfo import ZoneInfo

    local = facts(received_at=datetime(2026, 9, 1, 11, 30, tzinfo=ZoneInfo("Europe/Brussels")))
    d = evaluate(local)
    assert d.primary_deadline is not None
    assert d.primary_deadline.due_at == datetime(2026, 9, 11, 9, 30, tzinfo=UTC)


def test_linked_request_types() -> None:
    wrong = evaluate(
        facts(
            "preservation_extension",
            linked=LinkedRequest("LRP-1", "epoc", T0 - timedelta(days=5), "in_review"),
        )
    )
    assert wrong.route == "clarification_required"
    assert wrong.findings[-1].code == "LINKED_MISMATCH"
