"""United States, Stored Communications Act (18 U.S.C. §§ 2701-2713): rows R19-R23.

The compelled-disclosure ladder (§ 2703) [V]: a subpoena reaches the § 2703(c)(2) records,
which include "records of session times and durations" and "temporarily assigned network
addresses" (identification data, not traffic); a § 2703(d) court order reaches all
non-content records. Contents: § 2703(b) also names a subpoena or a (d) order with notice,
but our published policy requires a warrant (United States v. Warshak, 6th Cir. 2010): the
refusal cites the policy, not the statute (domain.md §13.8 [V statute; S practice]).
§ 2703(f) preservation: 90 days, one 90-day renewal. We wait on the governmental entity, so
the period never ends before the end of its last local day in our zone and every zone of the
US, rolled over weekends and legal holidays (federal and, where the authority's state is not
known, every state's): Fed. R. Crim. P. 45(a)(1), (a)(6) counts a statute's days so [A]
(day rule ``us_preservation``, mode ``later_of_calendar_and_local_day_end``).
§ 2702(b)(8)/(c)(4): voluntary disclosure in an emergency involving danger of death or
serious physical injury, "to a governmental entity", which § 2711(4) defines as a US
federal, state or local body. To a foreign authority (§13.7 [S]): records under
§ 2702(c)(6), as our policy decides; contents only under § 2702(b)(9), pursuant to an order
of a country with a § 2523 executive agreement (``sca_2523_agreements``).
"""

from __future__ import annotations

from datetime import timedelta

from . import vocab as v
from .checks import (
    check_categories,
    check_confidentiality,
    check_targets,
    check_time_range,
    judicial_order,
)
from .config import US_PRESERVATION_RULE
from .deadlines import day_deadline, day_end, hours_deadline
from .draft import Draft
from .eevidence import ENDED_STATUSES
from .policy import evaluate_policy

PRESERVATION_DAYS = 90  # § 2703(f)(2) [V]
RENEWAL_DAYS = 90  # § 2703(f)(2) [V], once

_ROW = {v.US_SUBPOENA: "R19", v.US_COURT_ORDER: "R20", v.US_SEARCH_WARRANT: "R21"}
# What each process compels, per category: (allowed?, citation or refusal code).
_LADDER = {
    v.US_SUBPOENA: {
        v.SUBSCRIBER: (True, "2703(c)(2)"),
        v.IDENTIFICATION: (True, "2703(c)(2)(C), (E)"),
        v.TRAFFIC: (False, "US_REQUIRES_2703D_ORDER"),
        v.CONTENT: (False, "US_REQUIRES_WARRANT"),  # policy (Warshak), not the statute
    },
    v.US_COURT_ORDER: {
        v.SUBSCRIBER: (True, "2703(c)(1)(B), 2703(d)"),
        v.IDENTIFICATION: (True, "2703(c)(1)(B), 2703(d)"),
        v.TRAFFIC: (True, "2703(c)(1)(B), 2703(d)"),
        v.CONTENT: (False, "US_REQUIRES_WARRANT"),
    },
    v.US_SEARCH_WARRANT: {
        v.SUBSCRIBER: (True, "2703(c)(1)(A)"),
        v.IDENTIFICATION: (True, "2703(c)(1)(A)"),
        v.TRAFFIC: (True, "2703(c)(1)(A)"),
        v.CONTENT: (True, "2703(a)-(b)"),
    },
}


def _us_issuer(d: Draft) -> bool:
    country = d.facts.issuer.country
    if country != "US":
        d.add("US_ISSUER_NOT_US", field="issuer", country=country)
        return False
    if not d.config.us_sca_applies:
        d.add("US_SCA_NOT_APPLICABLE")
        evaluate_policy(d)
        return False
    return True


def evaluate_us(d: Draft) -> None:
    if not _us_issuer(d):
        return
    if d.facts.instrument == v.US_PRESERVATION:
        _preservation(d)
        return
    facts = d.facts
    instrument = facts.instrument
    row = _ROW[instrument]
    basis = v.sca("2703")
    check_categories(d, legal_basis=basis)
    check_targets(d, legal_basis=basis)
    check_time_range(d, legal_basis=basis)
    check_confidentiality(d, legal_basis=v.sca("2705(b)"))
    if instrument != v.US_SUBPOENA and not judicial_order(d):
        d.add(
            "US_COURT_NOT_IDENTIFIED",
            field="validation",
            rule_id=row,
            instrument=instrument.replace("_", " "),
            instrument_code=instrument,  # the vocabulary value, for translation
        )
    for category in d.categories:
        allowed, what = _LADDER[instrument][category]
        if allowed:
            d.allow(category, row, v.sca(what))
        else:
            d.add(what, category=category, field="data_categories", rule_id=row)
    if facts.confidential:
        d.add("US_NDO", field="confidential")


def _preservation(d: Draft) -> None:
    """R22, § 2703(f) [V]: 90 days pending process; one renewal of 90 days [V]; further
    renewals only if configured (providers accept them in practice [S])."""
    facts, config = d.facts, d.config
    basis = v.sca("2703(f)")
    check_targets(d, legal_basis=basis)
    check_time_range(d, legal_basis=basis)
    for category in d.categories:
        d.allow(category, "R22", basis)
    d.status = v.ST_PRESERVING
    linked = facts.linked
    if linked is None:
        _new_preservation(d)
        return
    if linked.instrument != v.US_PRESERVATION:
        d.add(
            "LINKED_MISMATCH",
            field="linked_reference",
            legal_basis=basis,
            linked_instrument=linked.instrument,
            expected=v.US_PRESERVATION,
        )
        return
    if linked.received_at > facts.received_at:
        d.add("LINKED_AFTER_REQUEST", field="linked_reference", legal_basis=basis)
        return
    expires = linked.preservation_expires_at or day_end(
        linked.received_at,
        PRESERVATION_DAYS + RENEWAL_DAYS * linked.extensions_count,
        US_PRESERVATION_RULE,
        config,
    )
    if linked.status in ENDED_STATUSES or facts.received_at > expires:
        d.add(
            "US_RENEWAL_AFTER_EXPIRY",
            field="linked_reference",
            rule_id="R22",
            expired_at=expires.isoformat(),
        )
        _new_preservation(d)
        return
    if linked.extensions_count >= 1 and not config.us_allow_further_renewals:
        d.add("US_RENEWAL_LIMIT", field="linked_reference", rule_id="R22")
        return
    # The additional 90 days follow the period as it ended: counted from its last instant (so
    # its last day is not counted twice), never before 90 x 24 h after it. [A]
    expiry = day_deadline(
        "preservation_expiry",
        expires - timedelta(microseconds=1),
        RENEWAL_DAYS,
        calendar_start=expires,
        rule_key=US_PRESERVATION_RULE,
        legal_basis=v.sca("2703(f)(2)"),
        config=config,
        not_before=True,
        start_label="the current expiry",
        period_start=facts.received_at,
        what="Renewed preservation ends; do not release before",
        what_code="us_renewed_preservation_ends",
    )
    d.add(
        "US_RENEWAL_GRANTED",
        field="linked_reference",
        rule_id="R22",
        expires_at=expiry.due_at.isoformat(),
    )
    if d.route() in (v.ACCEPTED, v.PARTIALLY_ACCEPTED):
        d.deadlines.append(expiry)


def _new_preservation(d: Draft) -> None:
    d.add("US_PRESERVATION", rule_id="R22")
    if d.route() in (v.ACCEPTED, v.PARTIALLY_ACCEPTED):
        d.deadlines.append(
            day_deadline(
                "preservation_expiry",
                d.facts.received_at,
                PRESERVATION_DAYS,
                rule_key=US_PRESERVATION_RULE,
                legal_basis=v.sca("2703(f)(2)"),
                config=d.config,
                not_before=True,
                what="Preservation ends unless renewed; do not release before",
                what_code="us_preservation_ends",
            )
        )


def evaluate_emergency_disclosure(d: Draft) -> None:
    """R23, § 2702(b)(8) (content) and (c)(4) (records) [V]/[M]: voluntary; needs a
    statement of an emergency involving danger of death or serious physical injury; the
    call-back verification comes first (verification_hold)."""
    facts, config = d.facts, d.config
    country = facts.issuer.country
    sca = config.us_sca_applies
    foreign = sca and country != "US"
    if not sca:
        # Not subject to the SCA: a voluntary disclosure under our published policy; its
        # texts cite the policy, never a statute that does not apply to us. [P]
        basis: str | None = v.POLICY
    elif foreign:
        basis = v.sca("2702(c)(6), 2711(4)")
    else:
        basis = v.sca("2702(b)(8), 2702(c)(4)")
    check_categories(d, legal_basis=basis)
    check_targets(d, legal_basis=basis)
    check_time_range(d, legal_basis=basis)
    policy_basis = v.POLICY if not sca else None
    if not facts.emergency or not facts.emergency_reason.strip():
        d.add(
            "EMG_STATEMENT_MISSING", field="emergency_reason", rule_id="R23", legal_basis=policy_basis
        )
    if foreign:
        d.add("US_FOREIGN_AUTHORITY", field="issuer", rule_id="R23", country=country)
    for category in d.categories:
        if category not in config.emergency_disclosure_categories:
            d.add(
                "EMG_CATEGORY_EXCLUDED", category=category, field="data_categories", rule_id="R23"
            )
        elif not sca:
            d.allow(category, "R23", v.POLICY)
        elif not foreign:
            section = "2702(b)(8)" if category == v.CONTENT else "2702(c)(4)"
            d.allow(category, "R23", v.sca(section))
        elif category == v.CONTENT:
            _foreign_contents(d, country)
        elif config.foreign_records_disclosure:
            d.add("US_FOREIGN_RECORDS_POLICY", category=category, rule_id="R23")
            d.allow(category, "R23", v.sca("2702(c)(6)"))
        else:
            d.add(
                "US_FOREIGN_RECORDS_NOT_DISCLOSED",
                category=category,
                field="data_categories",
                rule_id="R23",
            )
    d.add("EMG_PROVIDER_DISCRETION", rule_id="R23", legal_basis=policy_basis)
    d.status = v.ST_VERIFICATION_HOLD
    if d.route() != v.NOT_EXECUTABLE:
        d.deadlines.append(
            hours_deadline(
                "emergency_triage_due",
                d.period_start,
                config.emergency_triage_hours,
                legal_basis=basis or v.POLICY,
                config=config,
                internal=True,
                what="Triage the emergency request and call the authority back",
                what_code="emergency_triage",
            )
        )


def _foreign_contents(d: Draft, country: str) -> None:
    """§ 2702(a)(1)-(2) bars disclosing contents; § 2702(b)(9) lifts the bar only for an
    order of a foreign government under a § 2523 executive agreement [S]."""
    if country in {v.iso_country(c) for c in d.config.sca_2523_agreements}:  # UK → GB
        if d.config.sca_2523_requires_court_order and not judicial_order(d):
            # § 2702(b)(9): "pursuant to an order from a foreign government that is subject to
            # an executive agreement": a request without an order issued or validated by a
            # judge or court is not one. [S]/[A] (setting)
            d.add(
                "US_FOREIGN_2523_ORDER_REQUIRED",
                category=v.CONTENT,
                field="validation",
                rule_id="R23",
                country=country,
            )
            return
        d.add("US_FOREIGN_2523_AGREEMENT", category=v.CONTENT, rule_id="R23", country=country)
        d.allow(v.CONTENT, "R23", v.sca("2702(b)(9), 2523"))
    else:
        d.add(
            "US_FOREIGN_CONTENT_BARRED",
            category=v.CONTENT,
            field="data_categories",
            rule_id="R23",
            country=country,
        )
