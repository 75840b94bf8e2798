"""Provider policy (R24) and national orders: everything no binding instrument covers.

Default policy [V Telegram ToS 8.3, P]: on a valid order of a judicial authority confirming
the user is a suspect, after a legal analysis, we may disclose the IP address
(identification) and phone number (subscriber); everything else is redirected to MLAT or a
CLOUD Act agreement (US-style practice, domain.md §3.5 [S]). All of it is configurable in
``ProviderConfig.non_eu_policy``.
"""

from __future__ import annotations

from . import vocab as v
from .checks import (
    check_categories,
    check_confidentiality,
    check_targets,
    check_time_range,
    judicial_order,
)
from .draft import Draft


def evaluate_national_order(d: Draft) -> None:
    """R15 for national orders of our own member state: binding under national law, legal
    review decides [V Art. 1(1) 2nd subpara.]. A national order of another member state is
    not binding across borders (example 32, Arts 1(1), 32 [S]): our policy applies, and the
    authority may issue an EPOC instead. Any other country: policy (R24)."""
    country = d.facts.issuer.country
    if country == v.iso_country(d.config.establishment_country):
        check_categories(d)
        check_targets(d, legal_basis=v.POLICY)
        d.add("NAT_DOMESTIC_ORDER", rule_id="R15", country=country)
        for category in d.categories:
            d.allow(category, "R15", v.reg("1(1) second subparagraph") + "; national law")
        return
    if country in v.EU_MEMBER_STATES:
        d.add("NAT_NOT_BINDING", field="instrument", country=country)
    evaluate_policy(d)


def evaluate_policy(d: Draft) -> None:
    policy = d.config.non_eu_policy
    facts = d.facts
    basis = v.POLICY
    check_categories(d, legal_basis=basis)
    check_targets(d, legal_basis=basis)
    check_time_range(d, legal_basis=basis)
    check_confidentiality(d, legal_basis=basis)
    inside = [c for c in d.categories if c in policy.allowed_categories]
    for category in d.categories:
        if category not in policy.allowed_categories:
            d.add(
                "POL_MLAT_REQUIRED",
                category=category,
                field="data_categories",
                rule_id="R24",
                redirect_to=policy.redirect_to,
            )
    if d.categories and not inside:
        d.add("POL_REDIRECT_MLAT", rule_id="R24", redirect_to=policy.redirect_to)
        return
    judicial = judicial_order(d)
    for category in inside:
        if policy.require_judicial_order and not judicial:
            d.add(
                "POL_JUDICIAL_ORDER_REQUIRED", category=category, field="validation", rule_id="R24"
            )
        elif policy.require_suspect and facts.suspect_named is False:
            d.add("POL_SUSPECT_REQUIRED", category=category, field="suspect_named", rule_id="R24")
        else:
            d.allow(category, "R24", basis)
    if any(not d.blocked(c) for c in inside):
        if policy.require_suspect and facts.suspect_named is None:
            d.add("POL_SUSPECT_UNCONFIRMED", field="suspect_named", rule_id="R24")
        d.add("POL_SCOPE_LIMITED", rule_id="R24", scope=policy.scope_note)
