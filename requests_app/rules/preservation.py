"""Regulation (EU) 2023/1543, preservation: rows R12-R13 and the Art. 11 lifecycle.

EPOC-PR (Annex II), extension (Annex VI) and confirmation of a production request (Annex V).
Art. 11(1) [V]: preserve without undue delay; the obligation ceases after 60 days unless the
issuing authority confirms a subsequent production request (Annex V) or, *during* the 60
days, extends once by an additional 30 days (Annex VI); Art. 11(2) [V]: after Annex V keep
the data as long as necessary to produce; Art. 11(3) [V]: release when told.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import NamedTuple

from . import vocab as v
from .checks import check_language
from .config import EE_PRESERVATION, LATER_OF_1182, DayRule, ProviderConfig
from .deadlines import day_deadline, day_end, local_day_end
from .draft import Draft
from .eevidence import (
    ENDED_STATUSES,
    EXTENSION_DAYS,
    PRESERVATION_DAYS,
    category_checks,
    certificate_checks,
    common_deadlines,
    member_states,
    rule_row,
)
from .result import Deadline


def evaluate_preservation(d: Draft) -> None:
    if not member_states(d):
        return
    instrument = d.facts.instrument
    if instrument == v.EPOC_PR:
        _preservation_order(d)
    elif instrument == v.PRESERVATION_EXTENSION:
        _extension(d)
    else:
        _confirmation(d)


# --- EPOC-PR ------------------------------------------------------------------------------
def _preservation_order(d: Draft) -> None:
    facts = d.facts
    certificate_checks(d, preserve_on_receipt=v.reg("11(1)"))
    category_checks(d, production=False)
    if facts.enforcing_authority_notified:
        # Art. 8 covers production orders only. [V]
        d.add("EE_EA_NOTIFICATION_NOT_REQUIRED", field="enforcing_authority_notified")
    route = d.route()
    if route in (v.ACCEPTED, v.PARTIALLY_ACCEPTED):
        d.deadlines.append(
            day_deadline(
                "preservation_expiry",
                facts.received_at,
                PRESERVATION_DAYS,
                rule_key=EE_PRESERVATION,
                legal_basis=v.reg("11(1)"),
                config=d.config,
                not_before=True,
                what="Preservation ends unless extended (Annex VI) or production is confirmed "
                "(Annex V); do not release before",
                what_code="preservation_ends",
            )
        )
        # An emergency preservation (or account freeze) is held for the call-back like a
        # disclosure: forged emergency requests ask for these too (security.md E7).
        d.status = v.ST_VERIFICATION_HOLD if facts.emergency else v.ST_PRESERVING
    common_deadlines(d, route)


# --- Annex VI / Annex V ----------------------------------------------------------------
def _linked_preservation(d: Draft) -> bool:
    linked = d.facts.linked
    if linked is None:
        d.add("LINKED_UNKNOWN", field="linked_reference", reference=d.facts.case_reference)
        return False
    if linked.instrument != v.EPOC_PR:
        d.add(
            "LINKED_MISMATCH",
            field="linked_reference",
            linked_instrument=linked.instrument,
            expected=v.EPOC_PR,
        )
        return False
    if linked.received_at > d.facts.received_at:
        d.add("LINKED_AFTER_REQUEST", field="linked_reference")
        return False
    if linked.status in ENDED_STATUSES:
        d.add("EE_PRESERVATION_ENDED", field="linked_reference", status=linked.status)
        return False
    return True


def _annex_common(d: Draft, article: str) -> None:
    """Annex V and Annex VI are forms of the issuing authority inside the preservation it
    ordered (Art. 11(1)-(2)); Art. 4 governs the issuing of the EPOC-PR, checked when it was
    received. A form without its own validation never ends the preservation early (the
    irreversible harm): the categories keep the preservation's basis. [A]"""
    check_language(d)
    for category in d.categories:
        d.allow(category, rule_row(v.EPOC_PR, category, d.facts.issuer.authority_type), v.reg(article))


def preservation_end(d: Draft) -> datetime:
    """When the linked EPOC-PR's preservation ends at the latest (we wait on the issuing
    authority, §13.2): the stored expiry or the computed one, whichever is later; after the
    Annex VI extension, see ``extended_expiry``."""
    linked = d.facts.linked
    assert linked is not None
    config = d.config
    sixty = day_end(linked.received_at, PRESERVATION_DAYS, EE_PRESERVATION, config)
    if linked.extensions_count:
        sixty = max(sixty, _extended_count(d).due)
    stored = linked.preservation_expires_at
    return max(sixty, stored) if stored is not None else sixty


class _ExtendedCount(NamedTuple):
    """One way of counting the extended period, and the end it gives."""

    due: datetime
    start: datetime
    days: int
    config: ProviderConfig
    start_label: str
    calendar_start: datetime | None = None


def _extended_count(d: Draft) -> _ExtendedCount:
    """Art. 11(1) [V]: "an additional 30-day period". Counted from the receipt of the EPOC-PR
    (90 days), or, where ``extension_from_period_end`` (default, [A]: the additional period
    follows the 60-day period as it ended, rolled over weekends and holidays), 30 days after
    the last day of the 60-day period, in each zone we wait in: the latest end applies (the
    receipt's count on a tie, then the first zone)."""
    linked = d.facts.linked
    assert linked is not None
    config = d.config
    days = PRESERVATION_DAYS + EXTENSION_DAYS
    best = _ExtendedCount(
        day_end(linked.received_at, days, EE_PRESERVATION, config),
        linked.received_at,
        days,
        config,
        "receipt of the EPOC-PR",
    )
    if not config.extension_from_period_end:
        return best
    rule = config.day_rule(EE_PRESERVATION)
    if rule.mode != LATER_OF_1182:
        return best  # calendar days: 60 x 24 h + 30 x 24 h is the same instant
    countries = config.waiting_holidays(rule)
    calendar_sixty = linked.received_at + timedelta(days=PRESERVATION_DAYS)
    stored = linked.preservation_expires_at if not linked.extensions_count else None
    for name in config.waiting_zones():
        # In each zone: the 60-day period's last day there, then 30 more days from it.
        sixty_end = local_day_end(linked.received_at, PRESERVATION_DAYS, name, countries)
        single = config.derived(_one_zone, name, countries)
        last_day = sixty_end - timedelta(microseconds=1)  # the last day of the 60-day period
        # and never before 30 x 24 h after the 60-day period's end (or the stored expiry)
        calendar_start = max(sixty_end, calendar_sixty, stored or sixty_end)
        due = day_end(last_day, EXTENSION_DAYS, EE_PRESERVATION, single, calendar_start)
        if due > best.due:
            best = _ExtendedCount(
                due, last_day, EXTENSION_DAYS, single, "the current expiry", calendar_start
            )
    return best


def extended_expiry(d: Draft) -> Deadline:
    """The deadline of the extended preservation, written from the count that ends latest
    (``_extended_count``): only that one is built."""
    count = _extended_count(d)
    return day_deadline(
        "preservation_expiry",
        count.start,
        count.days,
        rule_key=EE_PRESERVATION,
        legal_basis=v.reg("11(1)"),
        config=count.config,
        not_before=True,
        start_label=count.start_label,
        period_start=d.facts.received_at,
        what="Extended preservation (60 + 30 days) ends unless production is confirmed; "
        "do not release before",
        what_code="extended_preservation_ends",
        calendar_start=count.calendar_start,
    )


def _one_zone(config: ProviderConfig, name: str, countries: tuple[str, ...]) -> ProviderConfig:
    """``config`` counting the 1182/71 days in the zone ``name`` alone, with the holidays of
    ``countries`` (what the per-zone extension counts with); built once per configuration,
    zone and holiday countries (config.derived), not per request (issue 9)."""
    return replace(
        config,
        establishment_time_zone=name,
        issuing_country=None,
        issuer_holidays=False,
        holiday_countries=countries,
        day_rules={EE_PRESERVATION: DayRule(LATER_OF_1182, holiday_country=countries[0])},
    )


def _extension(d: Draft) -> None:
    """Annex VI, Art. 11(1) [V]: one extension of 30 days, received within the 60 days."""
    _annex_common(d, "11(1)")
    if not _linked_preservation(d):
        return
    facts = d.facts
    linked = facts.linked
    assert linked is not None
    d.status = v.ST_PRESERVING
    period_end = preservation_end(d)
    if linked.confirmed:
        d.add("EE_EXTENSION_AFTER_CONFIRMATION", field="linked_reference")
    elif linked.extensions_count >= 1:
        d.add("EE_EXTENSION_ALREADY_USED", field="linked_reference")
    elif facts.received_at > period_end:
        d.add("EE_EXTENSION_LATE", field="linked_reference", period_end=period_end.isoformat())
    else:
        expiry = extended_expiry(d)
        d.add(
            "EE_EXTENSION_GRANTED", field="linked_reference", expires_at=expiry.due_at.isoformat()
        )
        if d.route() in (v.ACCEPTED, v.PARTIALLY_ACCEPTED):
            d.deadlines.append(expiry)


def _confirmation(d: Draft) -> None:
    """Annex V, Art. 11(1)-(2) [V]: received during preservation → keep until production."""
    _annex_common(d, "11(1)-(2)")
    if not _linked_preservation(d):
        return
    facts = d.facts
    linked = facts.linked
    assert linked is not None
    d.status = v.ST_PRESERVING
    if not linked.confirmed:
        expires = preservation_end(d)
        if facts.received_at > expires:
            d.add("EE_CONFIRMATION_LATE", field="linked_reference", expired_at=expires.isoformat())
            return
    d.add("EE_PRESERVE_UNTIL_PRODUCTION", field="linked_reference")
