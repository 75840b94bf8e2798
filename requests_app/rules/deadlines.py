"""Deadline arithmetic (domain.md §1.8, §12.2 and §13.2). Pure: the start is always passed in.

- Hour periods (8 h, 48 h, 96 h) are exact and never shifted.
- Day periods follow the ``DayRule`` configured for their legal basis:
  ``calendar_days`` = start + N x 24 h (our own duties; never later than the earliest
  plausible end of the period);
  ``later_of_calendar_and_reg_1182_71`` = where we wait on an authority: not before the
  later of that instant and the Reg. 1182/71 Art. 3 end, counted in civil time zones: the
  day of the event is not counted, the period ends at the end of its last day, and a last
  day on a Saturday, Sunday or public holiday moves to the end of the next working day. The
  end is taken in the zone of our establishment and in every zone of the issuing
  authority's country, with the holidays of the configured countries, and the latest wins.
- Every result says in its explanation, in the establishment's time zone and labelled,
  when it ends, from what, and which rule was applied. The English ``explanation`` is kept
  for the API; ``explanation_code`` (what the deadline is for) and ``explanation_params``
  (the rule, the instants, the counts, zones and holiday countries) let the portal write the
  same explanation in any language without reading the English.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from .calendars import label as calendar_label
from .calendars import public_holidays
from .config import CALENDAR, LATER_OF_1182, LOCAL_END_MODES, DayRule, ProviderConfig
from .result import Deadline, ParamValue, lazy_text
from .vocab import FRCRP_45, REG_1182

HOURS = "hours"
INTERNAL_SLA = "internal_sla"

# What a period runs from (``start_label``), as a code for the translations.
START_CODES = {
    "receipt": "receipt",
    "arrival of the clarification": "clarification",
    "detection": "detection",
    "receipt of the EPOC-PR": "epoc_pr_receipt",
    "the current expiry": "current_expiry",
}


def start_code(start_label: str) -> str:
    try:
        return START_CODES[start_label]
    except KeyError:
        raise ValueError(f"start label {start_label!r} has no code in START_CODES") from None


def as_utc(moment: datetime) -> datetime:
    """Aware datetimes are converted to UTC; naive ones are refused (no guessing)."""
    if moment.tzinfo is UTC:
        return moment  # what astimezone(UTC) returns for it
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: the engine needs aware times")
    return moment.astimezone(UTC)


def _holidays(country: str, year: int) -> frozenset[date]:
    """``country`` is a calendar name: ``BE``, ``DE-BY``, ``DE-*`` (rules/calendars.py)."""
    return public_holidays(country, year)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=64)
def zone_label(name: str) -> str:
    """``Europe/Brussels`` -> ``Brussels time``; ``UTC`` -> ``UTC``."""
    if name.upper() == "UTC":
        return "UTC"
    return name.rsplit("/", 1)[-1].replace("_", " ") + " time"


def is_working_day(day: date, countries: str | Iterable[str]) -> bool:
    if isinstance(countries, str):
        countries = (countries,)
    return day.weekday() < 5 and not any(day in _holidays(c, day.year) for c in countries)


def local_day_end(start: datetime, days: int, zone_name: str, countries: Iterable[str]) -> datetime:
    """Reg. 1182/71 Art. 3(1), (2)(b) and (4) in one civil time zone: the end (midnight after
    the last day, in UTC) of ``days`` days after the day of ``start`` in ``zone_name``."""
    return _day_roll(start.astimezone(zone(zone_name)).date(), days, zone_name, tuple(countries))


@lru_cache(maxsize=4096)
def _day_roll(first: date, days: int, zone_name: str, countries: tuple[str, ...]) -> datetime:
    """A pure function of the local day, the count, the zone and the holiday countries (the
    holiday tables are fixed per country and year): cached, as every request of one day in
    one zone ends on the same day."""
    tz = zone(zone_name)
    last_day = first + timedelta(days=days)
    while not is_working_day(last_day, countries):
        last_day += timedelta(days=1)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)


def reg_1182_end(
    start: datetime,
    days: int,
    countries: str | Iterable[str],
    zones: Iterable[str] = ("Europe/Brussels",),
) -> datetime:
    """The latest Reg. 1182/71 end of ``days`` days over ``zones`` (public holidays of
    ``countries``)."""
    countries = (countries,) if isinstance(countries, str) else tuple(countries)
    return max(local_day_end(start, days, z, countries) for z in zones)


# English names, as strftime's %a / %b give them in the C locale the texts were written in.
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=1024)
def _day_text(day: date) -> str:
    """``Tue 1 Sep 2026`` (a pure function of the day: the explanations of one day share it)."""
    return f"{_DAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def _when(moment: datetime, zone_name: str, *, with_time: bool = True) -> str:
    local = moment.astimezone(zone(zone_name))
    text = _day_text(local.date())  # the local day: equal aware datetimes may differ in it
    return f"{text} {local.hour:02d}:{local.minute:02d}" if with_time else text


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
    what_code: str = "",
) -> Deadline:
    due = start + timedelta(hours=hours)
    rule = INTERNAL_SLA if internal else HOURS
    tz = config.establishment_time_zone
    return Deadline(
        kind=kind,
        due_at=due,
        explanation=lazy_text(_hours_text, what, due, start, hours, start_label, tz, internal),
        rule_applied=rule,
        legal_basis=legal_basis,
        warn_at=None if informational else _warn_at(start, due, config.warn_ratio),
        informational=informational,
        time_zone=tz,
        explanation_code=what_code,
        explanation_params={
            "rule": rule,
            "due_at": due.isoformat(),
            "start_at": start.isoformat(),
            "start": start_code(start_label),
            "hours": hours,
        },
    )


def restated(deadline: Deadline, kind: str, *, legal_basis: str, text: str, prefix_code: str) -> Deadline:
    """A deadline ``kind`` due when ``deadline`` is, under ``legal_basis``, whose explanation
    is ``text`` followed by that of ``deadline`` (``prefix_code`` names ``text`` for the
    translations). The text is written when first read, like every explanation."""
    return Deadline(
        kind,
        deadline.due_at,
        lazy_text(_restated_text, text, deadline),
        deadline.rule_applied,
        legal_basis,
        deadline.warn_at,
        time_zone=deadline.time_zone,
        explanation_code=deadline.explanation_code,
        explanation_params=dict(deadline.explanation_params),
        explanation_prefix=prefix_code,
    )


def _restated_text(text: str, deadline: Deadline) -> str:
    return text + deadline.explanation


def _hours_text(
    what: str, due: datetime, start: datetime, hours: int, start_label: str, tz: str, internal: bool
) -> str:
    note = (
        "internal target for 'without undue delay', not a statutory period"
        if internal
        else "hour periods are never extended"
    )
    label = zone_label(tz)
    return (
        f"{what}: by {_when(due, tz)} {label} ({hours} h after {start_label} on "
        f"{_when(start, tz)} {label}; {note})."
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
    what_code: str = "",
    calendar_start: datetime | None = None,
) -> Deadline:
    """A day-based deadline under the DayRule configured for ``rule_key``.

    ``calendar_start`` (default ``start``) is where the N x 24 h component counts from, for a
    period that follows another one: ``start`` is then an instant on the other period's last
    local day (so that day is not counted) and ``calendar_start`` the instant it ended.

    ``period_start`` (default ``start``) is where warn_at is measured from, for periods that
    were extended (the extension counts from the original receipt).
    """
    rule = config.day_rule(rule_key)
    count = DayCount(start, days, rule, config, start_label, *_due(start, days, rule, config, calendar_start))
    due = count.due
    rule_applied = rule.mode  # _due refused any other mode
    params: dict[str, ParamValue] = {
        "rule": rule_applied,
        "due_at": due.isoformat(),
        "start_at": start.isoformat(),
        "start": start_code(start_label),
        "days": days,
    }
    if rule_applied in LOCAL_END_MODES:
        waiting = _waiting(config, rule)
        params.update(
            last_day=_last_day(count.legal_end, count.latest_zone).isoformat(),
            latest_zone=count.latest_zone,
            zones=waiting.zones_text,
            countries=waiting.countries_text,
            at_least_24h=due > count.legal_end,
        )
    return Deadline(
        kind=kind,
        due_at=due,
        explanation=lazy_text(_day_text_of, what, count),
        rule_applied=rule_applied,
        legal_basis=legal_basis,
        warn_at=None if informational else _warn_at(period_start or start, due, config.warn_ratio),
        informational=informational,
        not_before=not_before,
        time_zone=config.establishment_time_zone,
        explanation_code=what_code,
        explanation_params=params,
    )


@dataclass(frozen=True, slots=True)
class DayCount:
    """A day deadline as ``day_deadline`` computed it (``_due``): its end, and what the
    English account of it (``_how``) is written from when it is first read."""

    start: datetime
    days: int
    rule: DayRule
    config: ProviderConfig
    start_label: str
    due: datetime
    latest_zone: str  # the zone whose end of day applies (the establishment's for CALENDAR)
    legal_end: datetime  # the Reg. 1182/71 (or local) end; the calendar end for CALENDAR


@dataclass(frozen=True, slots=True)
class _Waiting:
    """Where a rule that waits on an authority counts (``ProviderConfig.waiting_zones`` and
    ``waiting_holidays``), with the texts the explanation params carry."""

    zones: tuple[str, ...]
    countries: tuple[str, ...]
    zones_text: str  # "Europe/Brussels, Europe/Paris"
    countries_text: str  # "BE-*, FR"
    zones_label: str  # "Brussels time, Paris time"
    countries_label: str  # "BE (every region), FR"


def _waiting_of(config: ProviderConfig, rule: DayRule) -> _Waiting:
    zones, countries = config.waiting_zones(), config.waiting_holidays(rule)
    return _Waiting(
        zones,
        countries,
        ", ".join(zones),
        ", ".join(countries),
        ", ".join(zone_label(z) for z in zones),
        ", ".join(calendar_label(c) for c in countries),
    )


def _waiting(config: ProviderConfig, rule: DayRule) -> _Waiting:
    """Once per configuration and rule (both frozen: all that it depends on)."""
    return config.derived(_waiting_of, rule)


def _day_text_of(what: str, count: DayCount) -> str:
    return f"{what}: {_how(count)}."


def _last_day(legal_end: datetime, zone_name: str) -> date:
    """The last day of a period that ends at ``legal_end`` (a midnight in ``zone_name``)."""
    return (legal_end.astimezone(zone(zone_name)) - timedelta(days=1)).date()


def day_end(
    start: datetime,
    days: int,
    rule_key: str,
    config: ProviderConfig,
    calendar_start: datetime | None = None,
) -> datetime:
    """The ``due_at`` that ``day_deadline`` gives for the same arguments."""
    return _due(start, days, config.day_rule(rule_key), config, calendar_start)[0]


def _due(
    start: datetime,
    days: int,
    rule: DayRule,
    config: ProviderConfig,
    calendar_start: datetime | None = None,
) -> tuple[datetime, str, datetime]:
    """(due, zone whose end of day applies, Reg. 1182/71 end); calendar end for CALENDAR."""
    calendar_end = (calendar_start or start) + timedelta(days=days)
    if rule.mode == CALENDAR:
        return calendar_end, config.establishment_time_zone, calendar_end
    if rule.mode in LOCAL_END_MODES:
        waiting = _waiting(config, rule)
        countries = waiting.countries
        best_zone, legal_end = "", calendar_end
        for name in waiting.zones:
            end = local_day_end(start, days, name, countries)
            if not best_zone or end > legal_end:
                best_zone, legal_end = name, end
        return max(legal_end, calendar_end), best_zone, legal_end
    raise ValueError(f"unknown day rule mode {rule.mode!r}")


def _how(count: DayCount) -> str:
    """The English account of a day deadline computed by ``_due``."""
    start, days, rule, config, start_label = (
        count.start, count.days, count.rule, count.config, count.start_label
    )
    due = count.due
    tz = config.establishment_time_zone
    label = zone_label(tz)
    if rule.mode == CALENDAR:
        return (
            f"by {_when(due, tz)} {label} ({days} days after {start_label} on "
            f"{_when(start, tz)} {label}, counted as calendar days of 24 hours from the "
            f"{start_label} time: never later than the end under {REG_1182})"
        )
    waiting = _waiting(config, rule)
    law = REG_1182 if rule.mode == LATER_OF_1182 else FRCRP_45
    last_day = _last_day(count.legal_end, count.latest_zone)
    how = (
        f"not before {_when(due, tz)} {label} (end of {_day_text(last_day)} "
        f"in {zone_label(count.latest_zone)}; {days} days after {start_label} on "
        f"{_when(start, tz, with_time=False)}, {law}: the day of {start_label} "
        f"is not counted and the period ends at the end of its last day in {waiting.zones_label}, "
        f"moved past Saturdays, Sundays and {waiting.countries_label} public holidays; the "
        f"latest end applies"
    )
    if due > count.legal_end:
        how += f", and never before {days} x 24 hours after {start_label}"
    return how + ")"
