"""Deadline arithmetic (domain.md §1.8 and §12.2). Pure: the start is always passed in.

- Hour periods (8 h, 48 h, 96 h) are exact and never shifted.
- Day periods follow the ``DayRule`` configured for their legal basis:
  ``calendar_days`` = start + N x 24 h (our own duties; never later than the calendar end);
  ``later_of_calendar_and_reg_1182_71`` = not before the later of that instant and the
  Reg. 1182/71 end (the day of the event is not counted, the period ends at the end of its
  last day, and a last day on a Saturday, Sunday or public holiday of the holiday country
  moves to the end of the next working day). Day boundaries are UTC.
- Every result says in its explanation which rule was applied.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays

from .config import CALENDAR, LATER_OF_1182, DayRule, ProviderConfig
from .result import Deadline
from .vocab import REG_1182

HOURS = "hours"
INTERNAL_SLA = "internal_sla"


def as_utc(moment: datetime) -> datetime:
    """Aware datetimes are converted to UTC; naive ones are refused (no guessing)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: the engine needs aware times")
    return moment.astimezone(UTC)


@lru_cache(maxsize=256)
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year).keys())


def is_working_day(day: date, country: str) -> bool:
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def reg_1182_end(start: datetime, days: int, country: str) -> datetime:
    """End of a period of ``days`` days under Reg. 1182/71 Art. 3(1), (2)(b) and (4)."""
    last_day = start.astimezone(UTC).date() + timedelta(days=days)
    while not is_working_day(last_day, country):
        last_day += timedelta(days=1)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=UTC)


def _warn_at(start: datetime, due: datetime, ratio: float) -> datetime | None:
    if due <= start or not 0 < ratio < 1:
        return None
    return start + (due - start) * ratio


def hours_deadline(
    kind: str,
    start: datetime,
    hours: int,
    *,
    legal_basis: str,
    what: str,
    config: ProviderConfig,
    informational: bool = False,
    internal: bool = False,
    start_label: str = "receipt",
) -> Deadline:
    due = start + timedelta(hours=hours)
    rule = INTERNAL_SLA if internal else HOURS
    note = (
        "internal target for 'without undue delay', not a statutory period"
        if internal
        else "hour periods are never extended"
    )
    return Deadline(
        kind=kind,
        due_at=due,
        explanation=f"{what}: {hours} h from {start_label} ({start:%Y-%m-%d %H:%M} UTC); {note}.",
        rule_applied=rule,
        legal_basis=legal_basis,
        warn_at=None if informational else _warn_at(start, due, config.warn_ratio),
        informational=informational,
    )


def day_deadline(
    kind: str,
    start: datetime,
    days: int,
    *,
    rule_key: str,
    legal_basis: str,
    what: str,
    config: ProviderConfig,
    informational: bool = False,
    not_before: bool = False,
    start_label: str = "receipt",
    period_start: datetime | None = None,
) -> Deadline:
    """A day-based deadline under the DayRule configured for ``rule_key``.

    ``period_start`` (default ``start``) is where warn_at is measured from, for periods that
    were extended (the extension counts from the original receipt).
    """
    rule = config.day_rule(rule_key)
    due, rule_applied, how = _day_end(start, days, rule, config)
    text = f"{what}: {days} days from {start_label} ({start:%Y-%m-%d %H:%M} UTC); {how}."
    return Deadline(
        kind=kind,
        due_at=due,
        explanation=text,
        rule_applied=rule_applied,
        legal_basis=legal_basis,
        warn_at=None if informational else _warn_at(period_start or start, due, config.warn_ratio),
        informational=informational,
        not_before=not_before,
    )


def day_end(start: datetime, days: int, rule_key: str, config: ProviderConfig) -> datetime:
    return _day_end(start, days, config.day_rule(rule_key), config)[0]


def _day_end(
    start: datetime, days: int, rule: DayRule, config: ProviderConfig
) -> tuple[datetime, str, str]:
    calendar_end = start + timedelta(days=days)
    if rule.mode == CALENDAR:
        return calendar_end, CALENDAR, "calendar days counted from the receipt time, never later"
    if rule.mode == LATER_OF_1182:
        country = config.holiday_country(rule)
        legal_end = reg_1182_end(start, days, country)
        if legal_end > calendar_end:
            how = (
                f"later of the calendar end ({calendar_end:%Y-%m-%d %H:%M} UTC) and the "
                f"{REG_1182} end (end of the last day, moved past weekends and {country} "
                f"public holidays): the latter applies"
            )
            return legal_end, LATER_OF_1182, how
        return calendar_end, LATER_OF_1182, "later of the calendar and Reg. 1182/71 ends: calendar"
    raise ValueError(f"unknown day rule mode {rule.mode!r}")
