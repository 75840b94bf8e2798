"""Regulation (EU) 2023/1543 (e-Evidence): rows R1-R11, R14, R15 of domain.md §6, and the
Art. 4 / Art. 5 checks that preservation.py (R12, R13) shares.

Precedence inside this module (first match decides the route):
1. who is bound (R14) and whether the order is domestic (R15): reroute;
2. the addressee (Art. 7);
3. per data category: who may issue/validate (Art. 4) and the offence (Art. 5 / 6);
4. the enforcing authority's notification (Art. 8), then the deadlines (Art. 10 / 11).
The provider checks the certificate's *form-level* consistency only; competence under
national law and Art. 8(2) are the issuing authority's to judge (domain.md §1.3, §1.7).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from . import vocab as v
from .checks import (
    check_categories,
    check_confidentiality,
    check_language,
    check_targets,
    check_time_range,
)
from .config import EE_EA_WINDOW, EE_PRODUCTION, INTERNAL, ProviderConfig
from .deadlines import day_deadline, hours_deadline, restated, zone
from .draft import Draft
from .model import RequestFacts, SentenceExecution
from .policy import evaluate_national_order
from .result import Deadline

# Statutory periods read in the primary text ([V]).
PRODUCTION_DAYS = 10  # Art. 10(3)
EA_WINDOW_DAYS = 10  # Art. 10(2), 12
EMERGENCY_HOURS = 8  # Art. 10(4)
EA_EMERGENCY_HOURS = 96  # Art. 10(4)
EX_POST_VALIDATION_HOURS = 48  # Art. 4(5) [S]
PRESERVATION_DAYS = 60  # Art. 11(1)
EXTENSION_DAYS = 30  # Art. 11(1), once
SERIOUS_MAX_MONTHS = 36  # Art. 5(4)(a): at least 3 years
SENTENCE_MIN_MONTHS = 4  # Art. 5(3), 5(4)(d), 6(3)
# Art. 34(2): the Regulation applies from 18 August 2026 (``regulation_applies_from``), from
# 00:00 in the establishment's zone (CEST in Brussels) and, by default, in the issuer's zones.


def applies_from(config: ProviderConfig) -> datetime:
    """The instant from which Reg. 2023/1543 binds for an order of ``config.issuing_country``:
    the latest start of the application day over the zones concerned (§13.3 [S], [A])."""
    return config.derived(_applies_from)  # once per configuration (issue 9)


def _applies_from(config: ProviderConfig) -> datetime:
    day = date.fromisoformat(config.regulation_applies_from)
    zones = [config.establishment_time_zone]
    if config.applicability_in_issuer_zones:
        zones += config.zones_of(config.issuing_country)
    return max(datetime.combine(day, time(0), tzinfo=zone(z)).astimezone(UTC) for z in zones)


ENDED_STATUSES = frozenset(
    {"released", "closed", "withdrawn", "refused", "not_executed", "rerouted"}
)

# domain.md §6 row per (category, issuer group) for production orders.
_PRODUCTION_ROWS = {
    (v.SUBSCRIBER, "judicial"): "R1",
    (v.SUBSCRIBER, "prosecutor"): "R2",
    (v.SUBSCRIBER, "other"): "R3",
    (v.IDENTIFICATION, "judicial"): "R4",
    (v.IDENTIFICATION, "prosecutor"): "R4",
    (v.IDENTIFICATION, "other"): "R5",
    (v.TRAFFIC, "judicial"): "R6",
    (v.TRAFFIC, "prosecutor"): "R7",
    (v.TRAFFIC, "other"): "R8",
    (v.CONTENT, "judicial"): "R9",
    (v.CONTENT, "prosecutor"): "R10",
    (v.CONTENT, "other"): "R11",
}


def _group(authority_type: str) -> str:
    if authority_type in v.JUDICIAL:
        return "judicial"
    return "prosecutor" if authority_type == v.PROSECUTOR else "other"


def rule_row(instrument: str, category: str, authority_type: str) -> str:
    group = _group(authority_type)
    if instrument == v.EPOC:
        return _PRODUCTION_ROWS[(category, group)]
    return "R13" if group == "other" else "R12"


def evaluate_epoc(d: Draft) -> None:
    if member_states(d):
        _production_order(d)


# --- R14 / R15 / Art. 7 ---------------------------------------------------------------------
def member_states(d: Draft) -> bool:
    """False when the request is not an order under the Regulation at all."""
    facts, config = d.facts, d.config
    country = facts.issuer.country
    # Settings may write EL/UK like EU documents: compared as ISO 3166-1 (§13.10).
    establishment = v.iso_country(config.establishment_country)
    bound = config.bound_states_iso()
    addressee = facts.addressee_country or establishment
    if country not in v.EU_MEMBER_STATES:
        # Art. 1(1): orders are issued by authorities of a member state. [V]
        d.add("EE_ISSUER_NOT_MEMBER_STATE", field="issuer", country=country)
        return False
    if country not in bound:
        # R14: Art. 3(1)-(2) "member state bound by this Regulation"; DK not bound. [V]/[M]
        d.add("EE_MS_NOT_BOUND", field="issuer", rule_id="R14", country=country)
        return False
    if addressee not in bound:
        # R14, example 2: addressee located in a member state that is not bound. [V]/[M]
        d.add(
            "EE_ADDRESSEE_MS_NOT_BOUND", field="addressee_country", rule_id="R14", country=addressee
        )
        return False
    if country == establishment:
        # R15: Art. 1(1) 2nd subparagraph, domestic order → national-law workflow. [V]
        d.add("EE_DOMESTIC_ORDER", field="issuer", rule_id="R15", country=country)
        return False
    if facts.instrument in (v.EPOC, v.EPOC_PR) and facts.received_at < applies_from(config):
        # Art. 34(2) [S]: no binding force before 18 August 2026 → a national or voluntary
        # request (our policy), legal review, no deadline of the Regulation.
        d.add(
            "EE_NOT_YET_APPLICABLE",
            field="received_at",
            received_on=facts.received_at.date().isoformat(),
            applies_from=applies_from(config).isoformat(),
        )
        evaluate_national_order(d)
        return False
    if addressee != establishment:
        if facts.emergency and facts.designated_unresponsive:
            # Art. 7(2) [M]: another establishment only where the designated one failed to
            # react within the deadline (we always have one designated).
            d.add("EE_EMERGENCY_ADDRESSEE", field="addressee_country", country=addressee)
        elif facts.emergency:
            # Art. 7(1)-(2) [M]: route to the designated establishment; being ours, it
            # executes within the emergency deadline (never lose the 8 hours).
            d.add(
                "EE_EMERGENCY_FORWARD_TO_DESIGNATED",
                field="addressee_country",
                country=addressee,
                establishment=establishment,
            )
        else:
            # Art. 7(1) [M], §13.11: the order belongs to our designated establishment / legal
            # representative. Both are ours: the order is forwarded to the designated one, which
            # executes it; its deadlines run from the receipt (the earliest end of our duty).
            # Never a refusal: the legal team confirms the forwarding. (Dir. (EU) 2023/1544
            # Art. 3: the designated establishment receives, complies with and enforces.)
            d.add(
                "EE_FORWARD_TO_DESIGNATED",
                field="addressee_country",
                country=addressee,
                establishment=establishment,
            )
    return True


# --- Art. 4: issuing and validating authorities ----------------------------------------
def art4(d: Draft, category: str, *, production: bool) -> bool:
    """R1-R13 column "Issuer"/"Validation". Returns True when the category passes Art. 4.

    (a) issuers need no validation: for subscriber/identification production and for
    preservation a judge, court, investigating judge or public prosecutor (4(1)(a), 4(3)(a));
    for traffic/content production only a judge, court or investigating judge (4(2)(a)). [V]
    (b) "any other competent authority" acting as investigating authority in criminal
    proceedings (a public prosecutor for traffic/content, police or an administrative
    authority where national law makes them competent) issues validly once the order is
    validated: by a judge, court or investigating judge for traffic/content (4(2)(b)); by one
    of them or a prosecutor otherwise (4(1)(b), 4(3)(b)). [A] The validation is read before
    any refusal. Emergency without prior validation: subscriber/identification production and
    preservation only (4(5), ex-post validation within 48 h). [S]
    """
    facts = d.facts
    issuer = facts.issuer.authority_type
    serious = production and category in v.SERIOUS_CATEGORIES
    row = rule_row(facts.instrument, category, issuer)
    para = "4(2)" if serious else ("4(1)" if production else "4(3)")
    if issuer in v.JUDICIAL or (issuer == v.PROSECUTOR and not serious):
        d.allow(category, row, v.reg(f"{para}(a)"))
        return True
    validators = v.JUDICIAL if serious else v.JUDICIAL | {v.PROSECUTOR}
    validators_text = (
        "a judge, court or investigating judge"
        if serious
        else "a judge, court, investigating judge or public prosecutor"
    )
    # The Django side translates by this code, never by the English text above.
    validators_code = "judicial" if serious else "judicial_or_prosecutor"
    validation = facts.validation
    competent = validation is not None and validation.authority_type in validators
    if competent and validation is not None and validation.authority_name.strip():
        d.allow(category, row, v.reg(f"{para}(b)"))
        return True
    if facts.emergency and not serious:
        # Art. 4(5) [S]: in an emergency the 4(1)(b)/4(3)(b) authority may issue without
        # prior validation. A stated "validation" by an authority that cannot validate (or
        # one not named) is no validation: the order is an unvalidated emergency order, valid
        # pending ex-post validation, never refused for it (§13.1 "read the validation
        # before any refusal"). [A]
        d.allow(category, row, v.reg(f"{para}(b)"), v.reg("4(5)"))
        if not d.has("EE_EX_POST_VALIDATION_PENDING"):
            d.add("EE_EX_POST_VALIDATION_PENDING", field="validation", rule_id=row)
        if validation is not None and not competent:
            d.add(
                "EE_EMERGENCY_VALIDATOR_NOT_COMPETENT",
                category=category,
                field="validation",
                rule_id=row,
                legal_basis=v.reg(f"{para}(b), 4(5)"),
                validator_type=validation.authority_type,
                validators=validators_text,
                validators_code=validators_code,
            )
        return True
    if validation is None:
        if facts.emergency:
            d.add(
                "EE_NO_EMERGENCY_EXCEPTION",
                category=category,
                field="validation",
                rule_id=row,
                legal_basis=v.reg(f"4(5), {para}(b)"),
            )
        else:
            d.add(
                "EE_VALIDATION_REQUIRED",
                category=category,
                field="validation",
                rule_id=row,
                legal_basis=v.reg(f"{para}(b)"),
                issuer_type=issuer,
                validators=validators_text,
                validators_code=validators_code,
            )
        return False
    if not competent:
        d.add(
            "EE_VALIDATOR_NOT_COMPETENT",
            category=category,
            field="validation",
            rule_id=row,
            legal_basis=v.reg(f"{para}(b)"),
            validator_type=validation.authority_type,
            validators=validators_text,
            validators_code=validators_code,
        )
        return False
    # A competent validator that is not named (Annex I Section J / Annex II Section H): the
    # categories that need the validation are clarified; the others keep their deadline
    # (§13.5 partial execution). [M]
    d.add(
        "EE_VALIDATION_INCOMPLETE",
        category=category,
        field="validation",
        rule_id=row,
        legal_basis=(
            "Reg. (EU) 2023/1543 Annex I Section J"
            if production
            else "Reg. (EU) 2023/1543 Annex II Section H"
        ),
    )
    return False


# --- Art. 5 / Art. 6: offences -----------------------------------------------------------
def _sentence_defect(se: SentenceExecution) -> str:
    problems = []
    if se.sentence_months < SENTENCE_MIN_MONTHS:
        problems.append(f"{se.sentence_months} months")
    if se.in_absentia:
        problems.append("rendered in absentia")
    if not se.absconded:
        problems.append("the person did not abscond")
    return ", ".join(problems)


def offence_allows(d: Draft, category: str, *, production: bool) -> None:
    """Art. 5(3) [V]: subscriber/identification for every offence; Art. 5(4) [V (a)-(b),
    M (c)-(d)]: traffic/content only for a maximum of at least 3 years, a listed offence
    committed via an information system, terrorism, or the execution of a sentence for
    those. Art. 6(3) [M]: preservation for every offence. Sentence execution: at least 4
    months, not in absentia, person absconded."""
    offence = d.facts.offence
    row = rule_row(d.facts.instrument, category, d.facts.issuer.authority_type)
    serious = production and category in v.SERIOUS_CATEGORIES
    if offence is None:
        # EE_OFFENCE_MISSING is raised once for the order; traffic/content also cannot show
        # their threshold.
        if serious:
            d.add("EE_THRESHOLD_NOT_STATED", category=category, field="offence", rule_id=row)
        return
    se = offence.sentence_execution
    if se is not None:
        defect = _sentence_defect(se)
        if defect:
            article = "5(4)(d)" if serious else ("5(3)" if production else "6(3)")
            d.add(
                "EE_SENTENCE_EXECUTION_CONDITIONS",
                category=category,
                field="offence",
                rule_id=row,
                legal_basis=v.reg(article),
                detail=defect,
                # The parts of ``detail``, for the Django side to translate (no parsing of English).
                sentence_months=se.sentence_months if se.sentence_months < SENTENCE_MIN_MONTHS else None,
                in_absentia=se.in_absentia,
                absconded=se.absconded,
                annex_reason=v.AIII_OFFENCE_OUTSIDE_ART_5_4 if serious else None,
            )
            return
    if not serious:
        d.allow(category, row, v.reg("5(3)" if production else "6(3)"))
        return
    listed = offence.listed_offence
    months = offence.max_sentence_months
    suffix = ", 5(4)(d)" if se is not None else ""
    if listed == v.TERRORISM:
        d.allow(category, row, v.reg("5(4)(c)" + suffix))
    elif months is not None and months >= SERIOUS_MAX_MONTHS:
        d.allow(category, row, v.reg("5(4)(a)" + suffix))
    elif listed in v.LISTED_VIA_INFORMATION_SYSTEM and offence.via_information_system:
        d.allow(category, row, v.reg("5(4)(b)" + suffix))
    elif listed in v.LISTED_VIA_INFORMATION_SYSTEM:
        d.add(
            "EE_LISTED_OFFENCE_NOT_VIA_IS",
            category=category,
            field="offence",
            rule_id=row,
            listed=listed,
        )
    elif months is not None:
        d.add(
            "EE_OFFENCE_BELOW_THRESHOLD",
            category=category,
            field="offence",
            rule_id=row,
            months=months,
        )
    else:
        d.add("EE_THRESHOLD_NOT_STATED", category=category, field="offence", rule_id=row)


def offence_stated(d: Draft) -> None:
    offence = d.facts.offence
    if offence is None or not (offence.description.strip() or offence.legal_provisions.strip()):
        d.add("EE_OFFENCE_MISSING", field="offence")


def sca_conflict(d: Draft) -> None:
    """§13.7 [S]/[A]: where our configuration says the SCA applies to us, § 2702(a) bars
    disclosing contents to a foreign authority unless § 2702(b)(9) (an order under a § 2523
    agreement) applies; no member state has one. The content part is flagged for a person's
    Art. 17 reasoned objection; it is neither refused nor produced by the machine."""
    config = d.config
    country = d.facts.issuer.country
    if (
        config.us_sca_applies
        and config.sca_conflict_on_eu_content
        and v.CONTENT in d.categories
        and not d.blocked(v.CONTENT)
        and country not in {v.iso_country(c) for c in config.sca_2523_agreements}
    ):
        d.add("EE_SCA_CONTENT_CONFLICT", category=v.CONTENT, field="data_categories", country=country)


# --- Art. 8: notification of the enforcing authority ----------------------------------------
def _notification(d: Draft) -> bool:
    """Returns whether the enforcing authority's notification applies (Art. 8(1), 8(4)).

    The provider reads the certificate's tick boxes. A traffic/content order stating neither
    the notification nor the Art. 8(2) exception, or claiming the exception while the order
    itself places the person's residence or the offence outside the issuing state, is a
    manifest error: clarification of those categories, never execution without the
    suspensive window. [V 8(1)-(2)]
    """
    facts = d.facts
    notified, exception = facts.enforcing_authority_notified, facts.art_8_2_exception
    serious = [c for c in d.categories if c in v.SERIOUS_CATEGORIES and not d.blocked(c)]
    if not serious:
        if notified:
            d.add("EE_EA_NOTIFICATION_NOT_REQUIRED", field="enforcing_authority_notified")
        return False
    if notified and exception:
        d.add("EE_EA_NOTIFICATION_CONTRADICTORY", field="art_8_2_exception")
    row = rule_row(facts.instrument, serious[0], facts.issuer.authority_type)
    if notified:
        code = "EE_EA_NOTIFIED_EMERGENCY" if facts.emergency else "EE_EA_NOTIFIED_SUSPENSIVE"
        d.add(code, field="enforcing_authority_notified", rule_id=row)
        return True
    country = facts.issuer.country
    residence, offence_country = facts.person_residence_country, facts.offence_country
    residence_off = bool(exception and residence and residence != country)
    offence_off = bool(exception and offence_country and offence_country != country)
    if facts.emergency and (not exception or residence_off or offence_off):
        # Art. 8(4), 10(4) [V]: in an emergency the notification has no suspensive effect,
        # so the manifest error (Art. 8(1)-(2), §13.6) cannot justify losing the 8 hours:
        # the categories stay under the emergency deadline, a person decides on them within
        # it and asks the issuing authority for clarification (Annex III) in parallel,
        # without stopping the clock. [A]
        for category in serious:
            d.add(
                "EE_EMERGENCY_EA_NOT_NOTIFIED",
                category=category,
                field="enforcing_authority_notified",
                rule_id=rule_row(facts.instrument, category, facts.issuer.authority_type),
            )
        return False
    for category in serious:
        row = rule_row(facts.instrument, category, facts.issuer.authority_type)
        if not exception:
            d.add(
                "EE_EA_NOTIFICATION_MISSING",
                category=category,
                field="enforcing_authority_notified",
                rule_id=row,
            )
            continue
        if residence_off:
            d.add(
                "EE_ART_8_2_RESIDENCE_MISMATCH",
                category=category,
                field="person_residence_country",
                rule_id=row,
                residence=residence,
                country=country,
            )
        if offence_off:
            d.add(
                "EE_ART_8_2_OFFENCE_MISMATCH",
                category=category,
                field="offence_country",
                rule_id=row,
                offence_country=offence_country,
                country=country,
            )
    if exception and any(not d.blocked(c) for c in serious):
        d.add("EE_ART_8_2_EXCEPTION", field="art_8_2_exception", rule_id=row)
    return False


# --- Deadlines ----------------------------------------------------------------------------
def production_deadlines(
    facts: RequestFacts, config: ProviderConfig, *, start: datetime, suspensive: bool
) -> list[Deadline]:
    """Art. 10(2)-(4) [V]. ``start``: receipt, or arrival of a clarification (§12.4); the
    enforcing authority's windows always count from the receipt (it was notified then)."""
    received = facts.received_at
    if facts.emergency:
        out = [
            hours_deadline(
                "production_due",
                start,
                EMERGENCY_HOURS,
                legal_basis=v.reg("10(4)"),
                config=config,
                what="Emergency: transmit without undue delay, at the latest",
                what_code="emergency_transmit",
                start_label=_label(start, received),
            )
        ]
        if suspensive:
            out.append(
                hours_deadline(
                    "ea_objection_window_end",
                    received,
                    EA_EMERGENCY_HOURS,
                    legal_basis=v.reg("10(4)"),
                    config=config,
                    informational=True,
                    what="The enforcing authority may object to the use of the data within",
                    what_code="ea_emergency_objection_window",
                )
            )
        return out
    if suspensive:
        window = day_deadline(
            "ea_window_end",
            received,
            EA_WINDOW_DAYS,
            rule_key=EE_EA_WINDOW,
            legal_basis=v.reg("10(2), 12"),
            config=config,
            not_before=True,
            what="Do not transmit before the enforcing authority's window ends",
            what_code="ea_window",
        )
        own = day_deadline(
            "production_due",
            start,
            PRODUCTION_DAYS,
            rule_key=EE_PRODUCTION,
            legal_basis=v.reg("10(2)"),
            config=config,
            what="Transmit at the end of the enforcing authority's window",
            what_code="transmit_after_ea_window",
            start_label=_label(start, received),
        )
        if own.due_at < window.due_at:
            own = restated(
                window,
                "production_due",
                legal_basis=v.reg("10(2)"),
                text="Transmit at the end of the enforcing authority's window (earlier "
                "upon its confirmation that it raises no ground): ",
                prefix_code="transmit_after_ea_window_or_confirmation",
            )
        return [own, window]
    return [
        day_deadline(
            "production_due",
            start,
            PRODUCTION_DAYS,
            rule_key=EE_PRODUCTION,
            legal_basis=v.reg("10(3)"),
            config=config,
            what="Transmit at the latest",
            what_code="transmit",
            start_label=_label(start, received),
        )
    ]


def _label(start: datetime, received: datetime) -> str:
    return "receipt" if start == received else "arrival of the clarification"


def common_deadlines(d: Draft, route: str) -> None:
    facts, config = d.facts, d.config
    if route == v.CLARIFICATION_REQUIRED:
        d.deadlines.append(
            day_deadline(
                "clarification_reminder",
                facts.received_at,
                config.clarification_reminder_days,
                rule_key=INTERNAL,
                legal_basis=v.reg("10(6) [M]"),
                config=config,
                informational=True,
                what="Remind the issuing authority (internal reminder, no legal consequence)",
                what_code="clarification_reminder",
            )
        )
    if d.has("EE_EX_POST_VALIDATION_PENDING"):
        d.deadlines.append(
            hours_deadline(
                "ex_post_validation_mark",
                facts.received_at,
                EX_POST_VALIDATION_HOURS,
                legal_basis=v.reg("4(5)"),
                config=config,
                informational=True,
                what="Issuing authority's ex-post validation due (information only; issue time "
                "unknown, receipt used)",
                what_code="ex_post_validation",
            )
        )


# --- EPOC ---------------------------------------------------------------------------------
def certificate_checks(d: Draft, *, preserve_on_receipt: str) -> None:
    """What an EPOC (Annex I) and an EPOC-PR (Annex II) are both checked for, in this order,
    before their categories: the duty to preserve on receipt (``preserve_on_receipt`` cites
    it: Art. 10(1) or 11(1)), then the form of the certificate and the offence."""
    d.add("EE_PRESERVE_ON_RECEIPT", legal_basis=preserve_on_receipt)
    check_categories(d)
    check_targets(d)
    check_time_range(d)
    check_language(d)
    check_confidentiality(d)
    offence_stated(d)


def category_checks(d: Draft, *, production: bool) -> None:
    """Art. 4 (who may issue and validate), then, for a category that passes it, Art. 5 / 6
    (the offence)."""
    for category in d.categories:
        if art4(d, category, production=production):
            offence_allows(d, category, production=production)


def _production_order(d: Draft) -> None:
    facts = d.facts
    certificate_checks(d, preserve_on_receipt=v.reg("10(1)"))
    # Art. 9(2), Annex I: the case summary and the grounds of necessity stay with the issuing
    # authority; their absence is never a defect of the order. [A]
    if facts.emergency:
        d.add("EE_EMERGENCY_VERIFICATION", field="emergency")
        if not facts.emergency_reason.strip():
            d.add("EE_EMERGENCY_REASON_MISSING", field="emergency_reason")
    category_checks(d, production=True)
    sca_conflict(d)
    suspensive = _notification(d)
    route = d.route()
    if route in (v.ACCEPTED, v.PARTIALLY_ACCEPTED):
        d.deadlines.extend(
            production_deadlines(facts, d.config, start=d.period_start, suspensive=suspensive)
        )
        if facts.emergency:
            d.status = v.ST_VERIFICATION_HOLD
        elif suspensive:
            d.status = v.ST_AWAITING_EA
    elif route == v.NOT_EXECUTABLE:
        # Art. 10(8) [M]: the Annex III goes to the issuing authority within the deadlines.
        for deadline in production_deadlines(
            facts, d.config, start=d.period_start, suspensive=False
        ):
            d.deadlines.append(
                restated(
                    deadline,
                    "annex_iii_due",
                    legal_basis=v.reg("10(8) [M]"),
                    text="Send Annex III with the reasons within the production period: ",
                    prefix_code="annex_iii_within_production_period",
                )
            )
    common_deadlines(d, route)

