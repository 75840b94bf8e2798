"""Digital Services Act (Reg. (EU) 2022/2065): rows R16-R18 of domain.md §6.

DSA orders bind in all 27 member states (Denmark included: the DSA is an internal-market
act). The provider checks the minimum elements of Art. 9(2) / 10(2) [V] and reports "if and
when" effect was given; "without undue delay" is turned into internal targets (config).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import vocab as v
from .catalogue import finding
from .checks import (
    check_categories,
    check_language,
    check_targets,
    check_time_range,
    is_message_path,
    on_our_service,
    split_url,
)
from .config import ProviderConfig
from .deadlines import as_utc, hours_deadline
from .draft import Draft
from .model import DsaDetails
from .result import Deadline, Finding

# Authorities whose Art. 10 orders serve criminal proceedings (may withhold the reasons).
# A judge or court may sit in a civil or administrative matter: a person checks (§13.9 [A]).
CRIMINAL_AUTHORITIES = frozenset({v.INVESTIGATING_JUDGE, v.PROSECUTOR, v.OTHER_COMPETENT})
COURTS = frozenset({v.JUDGE, v.COURT})


def evaluate_dsa(d: Draft) -> None:
    facts = d.facts
    country = facts.issuer.country
    if country not in v.EU_MEMBER_STATES:
        d.add("DSA_ISSUER_NOT_MEMBER_STATE", field="issuer", country=country)
        return
    removal = facts.instrument == v.DSA_REMOVAL_ORDER
    art = "9" if removal else "10"
    details = facts.dsa or DsaDetails()
    if not details.legal_basis.strip():
        d.add(
            "DSA_LEGAL_BASIS_MISSING", field="dsa.legal_basis", legal_basis=v.dsa(f"{art}(2)(a)(i)")
        )
    if not details.redress_information.strip():
        d.add(
            "DSA_REDRESS_MISSING",
            field="dsa.redress_information",
            legal_basis=v.dsa(f"{art}(2)(a)(v)"),
        )
    check_language(d, legal_basis=v.dsa(f"{art}(2)(c), 11(3)"))
    if removal:
        _removal_order(d, details)
    else:
        _information_order(d, details)
    d.add("DSA_USER_NOTICE_MANUAL", legal_basis=v.dsa(f"{art}(5)"))
    _deadlines(d, removal)


def _removal_order(d: Draft, details: DsaDetails) -> None:
    """R16, DSA Art. 9 [V]: statement of reasons, exact URLs, redress, territorial scope."""
    if not details.statement_of_reasons.strip():
        d.add("DSA9_REASONS_MISSING", field="dsa.statement_of_reasons")
    if not details.territorial_scope.strip():
        d.add("DSA9_SCOPE_MISSING", field="dsa.territorial_scope")
    urls = list(details.content_urls)
    urls += [t.value for t in d.facts.targets if t.kind in ("message_url", "channel_url")]
    located = 0
    for url in urls:
        host, path = split_url(url)
        if not host or not on_our_service(host, d.config.provider_domains):
            d.add("DSA9_LOCATOR_FOREIGN", field="dsa.content_urls", url=url)
            continue
        located += 1
        if not is_message_path(path):
            d.add("DSA9_LOCATOR_NOT_SPECIFIC", field="dsa.content_urls", url=url)
    if not located:
        d.add("DSA9_CANNOT_LOCATE", field="dsa.content_urls", rule_id="R16")
    # §13.9 [A]: an Art. 9 order acts against content; it never authorises disclosing data.
    # The refusal of the data does not refuse the order: we still act against the content.
    for category in d.categories:
        d.add("DSA9_NO_DATA_DISCLOSURE", category=category, field="data_categories", rule_id="R16")
    d.acts_beyond_data = True
    d.add("DSA9_INFORM_EFFECT", rule_id="R16")


def _information_order(d: Draft, details: DsaDetails) -> None:
    """R17, DSA Art. 10 [V]: identify specific recipients; statement of reasons may be
    withheld for criminal-investigation reasons; only information already collected."""
    check_categories(d, legal_basis=v.dsa("10(1)"))
    if not details.statement_of_reasons.strip():
        # §13.9 [A]: withheld only where criminal offences are prevented, detected,
        # investigated or prosecuted; an administrative authority must give its reasons.
        if d.facts.issuer.authority_type in CRIMINAL_AUTHORITIES:
            d.add("DSA10_REASONS_WITHHELD", field="dsa.statement_of_reasons")
        elif d.facts.issuer.authority_type in COURTS:
            d.add(
                "DSA10_REASONS_WITHHELD_CHECK",
                field="dsa.statement_of_reasons",
                issuer_type=d.facts.issuer.authority_type,
            )
        else:
            d.add(
                "DSA10_REASONS_MISSING",
                field="dsa.statement_of_reasons",
                issuer_type=d.facts.issuer.authority_type,
            )
    if v.CONTENT in d.categories:
        d.add("DSA10_PRIVATE_CONTENT_REVIEW", category=v.CONTENT, field="data_categories")
    if not d.facts.targets:
        d.add("DSA10_CANNOT_IDENTIFY", field="targets", rule_id="R17")
    else:
        check_targets(d, legal_basis=v.dsa("10(2)(a)(iii)"))
    check_time_range(d, legal_basis=v.dsa("10(2)(b)"))
    for category in d.categories:
        d.allow(category, "R17", v.dsa("10(1), 10(2)(b)"))
    d.add("DSA10_ACK_RECEIPT", rule_id="R17")


def _deadlines(d: Draft, removal: bool) -> None:
    config, start = d.config, d.period_start
    if not removal:
        d.deadlines.append(
            hours_deadline(
                "dsa_receipt_ack_due",
                start,
                config.dsa_receipt_ack_hours,
                legal_basis=v.dsa("10(1)"),
                config=config,
                internal=True,
                what="Acknowledge receipt of the order",
                what_code="dsa_acknowledge_receipt",
            )
        )
    d.deadlines.append(
        hours_deadline(
            "dsa_effect_report_due",
            start,
            config.dsa_effect_report_hours,
            legal_basis=v.dsa("9(1)" if removal else "10(1)"),
            config=config,
            internal=True,
            what="Inform the issuing authority if and when effect was given",
            what_code="dsa_report_effect",
        )
    )


# --- R18: Art. 18 referral (outbound) ----------------------------------------------------
@dataclass(frozen=True, slots=True)
class Art18Referral:
    """Whom to inform of a suspected offence involving a threat to life or safety."""

    member_states: tuple[str, ...]  # law-enforcement authorities of these member states
    europol: bool
    finding: Finding
    deadline: Deadline


def art18_referral(
    *,
    detected_at: datetime,
    config: ProviderConfig,
    offence_state: str | None = None,
    suspect_state: str | None = None,
    victim_state: str | None = None,
) -> Art18Referral:
    """R18, DSA Art. 18(1)-(2) [V]: inform the member state(s) concerned (where the offence
    takes place, or the suspect or the victim resides or is); where none can be identified
    with reasonable certainty, the member state of our establishment / legal representative
    and Europol (the Act allows "or Europol, or both": we do both)."""
    concerned: list[str] = []
    for state in (offence_state, suspect_state, victim_state):
        code = v.iso_country(state or "")  # EL → GR, as the member states are stored
        if code in v.EU_MEMBER_STATES and code not in concerned:
            concerned.append(code)
    if concerned:
        states, europol = tuple(concerned), False
        recipients = "the law-enforcement authorities of " + ", ".join(states)
    else:
        states, europol = (config.establishment_country,), True
        recipients = f"the law-enforcement authorities of {states[0]} and Europol"
    found = finding(
        "DSA18_REFERRAL", rule_id="R18", annex=False, recipients=recipients,
        states=", ".join(states), europol=europol,  # the parts of ``recipients``, for translation
    )
    deadline = hours_deadline(
        "dsa_art18_referral_due",
        as_utc(detected_at),
        config.art18_referral_hours,
        legal_basis=v.dsa("18(1)"),
        config=config,
        internal=True,
        what="Refer the suspicion promptly",
        what_code="dsa_refer_suspicion",
        start_label="detection",
    )
    return Art18Referral(states, europol, found, deadline)
