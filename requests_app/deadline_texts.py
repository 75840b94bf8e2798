"""The explanations of the deadlines of a decision, in the active language.

The engine keeps its English ``explanation`` (the API's contract) and adds, per deadline,
``explanation_code`` (what the deadline is for), ``explanation_prefix`` (the outer sentence
of a deadline that restates another) and ``explanation_params`` (the rule applied, the
instants in ISO 8601, the hours or days, the zones and holiday countries). The portal writes
the explanation from these, by code: dates in the page's language and the zone the rule
counts in (the establishment's), labelled; a deadline that ends at midnight reads "by <last
day> 23:59" (or, for the earliest moment to act, "not before <next day> 00:00 (end of <last
day>)"). The legal anchor stays in the rule's zone; a reader in another zone also gets each
instant in their own ("by 25 Sep 2026 23:59 Brussels time (= 25 Sep 2026 22:59 Lisbon time)",
issue 13 item 1), computed from the instant, not from the text.

Decisions stored before the structured parts existed hold only the English ``explanation``
(and the deadline's ``kind``, ``due_at``, ``rule_applied``). They are read back into code and
parameters at display time (``legacy_parts``): what the deadline is for from the English text
of its code, the period and what it runs from, and the start from ``due_at`` minus the period
(exact for hour and calendar-day periods) or from the date the text names (Reg. 1182/71
periods). What cannot be recovered is left out, never shown in English to a French or German
reader: at the least the deadline reads "<what>: by <due>" in the reader's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo, available_timezones

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from .finding_texts import establishment_zone, local_when, written_for_reader, zone_label

WHAT: Final[dict[str, Promise]] = {
    "emergency_transmit": pgettext_lazy(
        "deadline emergency_transmit", "Emergency: transmit without undue delay, at the latest"),
    "ea_emergency_objection_window": pgettext_lazy(
        "deadline ea_emergency_objection_window", "The enforcing authority may object to the use of the data"),
    "ea_window": pgettext_lazy(
        "deadline ea_window", "Do not transmit before the enforcing authority's window ends"),
    "transmit_after_ea_window": pgettext_lazy(
        "deadline transmit_after_ea_window", "Transmit at the end of the enforcing authority's window"),
    "transmit": pgettext_lazy("deadline transmit", "Transmit at the latest"),
    "clarification_reminder": pgettext_lazy(
        "deadline clarification_reminder", "Remind the issuing authority (internal reminder, no legal consequence)"),
    "ex_post_validation": pgettext_lazy(
        "deadline ex_post_validation",
        "Issuing authority's ex-post validation due (information only; issue time unknown, receipt used)"),
    "art17_reminder": pgettext_lazy("deadline art17_reminder", "Reasoned objection: reminder"),
    "art17_due": pgettext_lazy("deadline art17_due", "Reasoned objection (soft deadline)"),
    "preservation_ends": pgettext_lazy(
        "deadline preservation_ends",
        "Preservation ends unless extended (Annex VI) or production is confirmed (Annex V); do not release before"),
    "extended_preservation_ends": pgettext_lazy(
        "deadline extended_preservation_ends",
        "Extended preservation (60 + 30 days) ends unless production is confirmed; do not release before"),
    "us_renewed_preservation_ends": pgettext_lazy(
        "deadline us_renewed_preservation_ends", "Renewed preservation ends; do not release before"),
    "us_preservation_ends": pgettext_lazy(
        "deadline us_preservation_ends", "Preservation ends unless renewed; do not release before"),
    "emergency_triage": pgettext_lazy(
        "deadline emergency_triage", "Triage the emergency request and call the authority back"),
    "dsa_acknowledge_receipt": pgettext_lazy("deadline dsa_acknowledge_receipt", "Acknowledge receipt of the order"),
    "dsa_report_effect": pgettext_lazy(
        "deadline dsa_report_effect", "Inform the issuing authority if and when effect was given"),
    "dsa_refer_suspicion": pgettext_lazy("deadline dsa_refer_suspicion", "Refer the suspicion promptly"),
    "preservation_release": pgettext_lazy(
        "deadline preservation_release",
        "Release on notice that preservation is no longer necessary: the obligation ceases at once"),
}
PREFIXES: Final[dict[str, Promise]] = {
    "transmit_after_ea_window_or_confirmation": pgettext_lazy(
        "deadline prefix transmit_after_ea_window_or_confirmation",
        "Transmit at the end of the enforcing authority's window (earlier upon its confirmation that it raises "
        "no ground)"),
    "annex_iii_within_production_period": pgettext_lazy(
        "deadline prefix annex_iii_within_production_period",
        "Send Annex III with the reasons within the production period"),
}
STARTS: Final[dict[str, Promise]] = {  # "... days after <start> on <date>"
    "receipt": pgettext_lazy("deadline runs from", "receipt"),
    "clarification": pgettext_lazy("deadline runs from", "arrival of the clarification"),
    "detection": pgettext_lazy("deadline runs from", "detection"),
    "epoc_pr_receipt": pgettext_lazy("deadline runs from", "receipt of the EPOC-PR"),
    "current_expiry": pgettext_lazy("deadline runs from", "the current expiry"),
}
HOW: Final[dict[str, Promise]] = {
    "hours": pgettext_lazy(
        "deadline rule hours",
        "{by} {due} ({hours} h after {start} on {start_at}; hour periods are never extended)"),
    "internal_sla": pgettext_lazy(
        "deadline rule internal_sla",
        "{by} {due} ({hours} h after {start} on {start_at}; internal target for 'without undue delay', not a "
        "statutory period)"),
    "calendar_days": pgettext_lazy(
        "deadline rule calendar_days",
        "{by} {due} ({days} days after {start} on {start_at}, counted as calendar days of 24 hours: never later "
        "than the end under Reg. 1182/71)"),
    "later_of_calendar_and_reg_1182_71": pgettext_lazy(
        "deadline rule later_of_calendar_and_reg_1182_71",
        "{by} {due} (end of {last_day} in {latest_zone}; {days} days after {start} on {start_date}, Reg. "
        "1182/71: the day the period runs from is not counted and the period ends at the end of its last day in "
        "{zones}, moved past Saturdays, Sundays and {countries} public holidays; the latest end applies{minimum})"),
    # 18 U.S.C. § 2703(f): the same latest local end, counted as Fed. R. Crim. P. 45(a) counts a statute's days.
    "later_of_calendar_and_local_day_end": pgettext_lazy(
        "deadline rule later_of_calendar_and_local_day_end",
        "{by} {due} (end of {last_day} in {latest_zone}; {days} days after {start} on {start_date}, Fed. R. "
        "Crim. P. 45(a): the day the period runs from is not counted and the period ends at the end of its last "
        "day in {zones}, moved past Saturdays, Sundays and {countries} legal holidays; the latest end applies"
        "{minimum})"),
    "immediate": pgettext_lazy("deadline rule immediate", "at once, on {due}"),
}
_LOCAL_END_RULES: Final = ("later_of_calendar_and_reg_1182_71", "later_of_calendar_and_local_day_end")
# A calendar ``DE-*`` (rules/calendars.py): the national holidays and every region's.
EVERY_REGION = pgettext_lazy("holiday calendar", "{country} (every region)")


def _calendars(names: Any) -> str:
    out = []
    for name in str(names).split(", "):
        country, _, region = name.partition("-")
        out.append(str(EVERY_REGION).format(country=country) if region == "*" else name)
    return ", ".join(out)
JOIN = pgettext_lazy("deadline: what it is for, then when", "{what}: {how}")
BY = pgettext_lazy("deadline: at the latest", "by")
NOT_BEFORE = pgettext_lazy("deadline: at the earliest", "not before")
AT_LEAST_24H = pgettext_lazy(
    "deadline rule later_of_calendar_and_reg_1182_71", ", and never before {days} x 24 hours after {start}")


def _instant(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("naive instant")
    return moment


def _due_text(due: datetime, zone_name: str, *, not_before: bool, reader_zone: str | None = None) -> str:
    """A "by" deadline ending at local midnight reads as 23:59 of its last day (no "00:00 of
    the next day" to misread); "not before" keeps 00:00, the first moment allowed. The
    reader's equivalent is of the minute shown, so both name the same minute."""
    local = due.astimezone(ZoneInfo(zone_name))
    if not not_before and (local.hour, local.minute, local.second) == (0, 0, 0):
        local -= timedelta(minutes=1)
    return written_for_reader(local, zone_name, reader_zone)


def deadline_text(deadline: Mapping[str, Any], reader_zone: str | None = None) -> str:
    """The explanation of ``deadline`` (a ``Deadline.to_dict()``) in the active language. A
    deadline stored before its structured parts existed is read back from its English text
    (``legacy_parts``); the stored English only where not even its purpose can be recovered.
    ``reader_zone`` (an IANA name): the zone the reader reads times in; each instant is then
    also written in it where it differs from the zone the rule counts in."""
    fallback = str(deadline.get("explanation") or "")
    if not deadline.get("explanation_code") and fallback:
        recovered = legacy_parts(deadline)
        if recovered is None:
            return fallback
        deadline = recovered
        text = _structured_text(deadline, reader_zone)
        return text if text is not None else _due_only_text(deadline, fallback, reader_zone)
    text = _structured_text(deadline, reader_zone)
    return text if text is not None else fallback


def _due_only_text(deadline: Mapping[str, Any], fallback: str, reader_zone: str | None) -> str:
    """"<what>: by <due>" in the active language, for a legacy deadline whose rule could not be
    recovered in full."""
    what = WHAT.get(str(deadline.get("explanation_code") or ""))
    try:
        due = _instant(deadline["due_at"])
    except (KeyError, ValueError, TypeError):
        return fallback
    if what is None:
        return fallback
    zone_name = str(deadline.get("time_zone") or "UTC")
    not_before = bool(deadline.get("not_before"))
    when = _due_text(due, zone_name, not_before=not_before, reader_zone=reader_zone)
    how = f"{NOT_BEFORE if not_before else BY} {when}"
    text = str(JOIN).format(what=what, how=how)
    prefix = PREFIXES.get(str(deadline.get("explanation_prefix") or ""))
    if prefix is not None:
        text = str(JOIN).format(what=prefix, how=text)
    return text + "."


def _structured_text(deadline: Mapping[str, Any], reader_zone: str | None) -> str | None:
    code = str(deadline.get("explanation_code") or "")
    params = deadline.get("explanation_params") or {}
    what = WHAT.get(code)
    how = HOW.get(str(params.get("rule") or ""))
    if what is None or how is None:
        return None
    zone_name = str(deadline.get("time_zone") or "UTC")
    not_before = bool(deadline.get("not_before"))
    try:
        due = _instant(params["due_at"])
        values: dict[str, Any] = {
            "by": str(NOT_BEFORE if not_before else BY),
            "due": _due_text(due, zone_name, not_before=not_before, reader_zone=reader_zone),
        }
        if params["rule"] != "immediate":
            start = str(STARTS[str(params["start"])])
            start_at = _instant(params["start_at"])
            values.update(
                start=start,
                start_at=written_for_reader(start_at, zone_name, reader_zone),
                start_date=local_when(start_at, zone_name, with_time=False),
                hours=params.get("hours"),
                days=params.get("days"),
            )
        if params["rule"] in _LOCAL_END_RULES:
            last_day = datetime.fromisoformat(str(params["last_day"]))
            values.update(
                last_day=local_when(last_day.replace(tzinfo=ZoneInfo(zone_name)), zone_name, with_time=False),
                latest_zone=zone_label(str(params["latest_zone"])),
                zones=", ".join(zone_label(z) for z in str(params["zones"]).split(", ") if z),
                countries=_calendars(params["countries"]),
                minimum=str(AT_LEAST_24H).format(days=params["days"], start=start) if params.get("at_least_24h")
                else "",
            )
        text = str(JOIN).format(what=what, how=str(how).format(**values))
    except (KeyError, ValueError, TypeError, IndexError):
        return None
    prefix = PREFIXES.get(str(deadline.get("explanation_prefix") or ""))
    if prefix is not None:
        text = str(JOIN).format(what=prefix, how=text)
    return text + "."


# --- Deadlines stored with their English explanation only -----------------------------------

_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d{4}"
_PERIOD = re.compile(r"\b(\d+) (h|days) (?:after|from) ")
_START_DATE = re.compile(rf"days (?:after|from) [a-zA-Z -]+? on ({_DAY})")
_START_UTC = re.compile(r"\((\d{4}-\d{2}-\d{2}) \d{2}:\d{2} UTC\)")
_LAST_DAY = re.compile(rf"end of ({_DAY}) in ([A-Za-z_ ]+?) time")
_ZONES = re.compile(r"last day in (.+?), moved past")
# A calendar: ``BE``, ``DE-BY`` or ``DE (every region)`` (rules/calendars.py).
_CALENDAR = r"[A-Z]{2}(?:-[A-Za-z0-9]+| \(every region\))?"
_COUNTRIES = re.compile(rf"(?:Sundays|weekends) and ({_CALENDAR}(?:, {_CALENDAR})*) (?:public|legal) holidays")


def _english(texts: Mapping[str, Promise]) -> list[tuple[str, str]]:
    """(English text, code), longest first, so that a text never matches a shorter one's code."""
    with translation.override("en"):
        pairs = [(str(text), code) for code, text in texts.items()]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


@lru_cache(maxsize=64)
def _zone_named(label: str) -> str:
    """"Brussels time" (the engine's English label) -> "Europe/Brussels"; "" when unknown."""
    label = label.strip().removesuffix(" time")
    if label.upper() == "UTC":
        return "UTC"
    city = label.replace(" ", "_")
    return next((z for z in sorted(available_timezones()) if z.rsplit("/", 1)[-1] == city), "")


def _day_of(text: str) -> date:
    return datetime.strptime(text, "%a %d %b %Y").date()


def legacy_parts(deadline: Mapping[str, Any]) -> dict[str, Any] | None:
    """``deadline`` with ``explanation_code`` / ``_prefix`` / ``_params`` recovered from its
    English ``explanation``; ``explanation_params`` is left out when the rule's parameters
    cannot all be recovered. None when not even what the deadline is for is recognised."""
    english = str(deadline.get("explanation") or "")
    rest, prefix = english, ""
    for text, code in _english(PREFIXES):
        if rest.startswith(text + ": "):
            rest, prefix = rest[len(text) + 2:], code
            break
    code = next((c for text, c in _english(WHAT) if rest.startswith(text)), "")
    if not code:  # a text whose own wording has a colon, e.g. "Release on notice ... (<when>): ..."
        code = next((c for text, c in _english(WHAT) if ": " in text and rest.startswith(text.split(": ")[0])), "")
    if not code:
        return None
    out: dict[str, Any] = {**deadline, "explanation_code": code, "explanation_prefix": prefix,
                           "time_zone": deadline.get("time_zone") or establishment_zone()}
    out.pop("explanation_params", None)
    try:
        params = _legacy_params(deadline, rest, str(out["time_zone"]))
    except (KeyError, ValueError, TypeError, IndexError):
        params = None
    if params is not None:
        out["explanation_params"] = params
    return out


_EVERY_REGION_EN = re.compile(r"\b([A-Z]{2}) \(every region\)")


def _legacy_params(deadline: Mapping[str, Any], text: str, zone_name: str) -> dict[str, Any] | None:
    rule = str(deadline.get("rule_applied") or "")
    due = _instant(deadline["due_at"])
    if rule == "immediate":
        return {"rule": rule, "due_at": due.isoformat()}
    period = _PERIOD.search(text)
    if period is None:
        return None
    count, unit = int(period.group(1)), period.group(2)
    after = text[period.end():]
    start = next((c for label, c in _english(STARTS) if after.startswith(label)), "")
    if not start:
        return None
    params: dict[str, Any] = {"rule": rule, "due_at": due.isoformat(), "start": start}
    if rule in ("hours", "internal_sla") and unit == "h":
        return {**params, "hours": count, "start_at": (due - timedelta(hours=count)).isoformat()}
    if rule == "calendar_days" and unit == "days":
        return {**params, "days": count, "start_at": (due - timedelta(days=count)).isoformat()}
    if rule not in _LOCAL_END_RULES or unit != "days":
        return None
    zone = ZoneInfo(zone_name)
    named = _START_DATE.search(text)
    if named is not None:
        start_day = _day_of(named.group(1))
    else:
        utc = _START_UTC.search(text)
        if utc is None:
            return None
        start_day = date.fromisoformat(utc.group(1))
    # Only the start's day is shown for a Reg. 1182/71 period (its day is not counted).
    start_at = datetime.combine(start_day, time(12), tzinfo=zone).astimezone(UTC)
    last = _LAST_DAY.search(text)
    latest_zone = (_zone_named(last.group(2)) if last else "") or zone_name
    last_day = _day_of(last.group(1)) if last else (due.astimezone(ZoneInfo(latest_zone)) - timedelta(days=1)).date()
    listed = _ZONES.search(text)
    zones = [z for z in (_zone_named(label) for label in listed.group(1).split(", "))] if listed else [zone_name]
    countries = _COUNTRIES.search(text)
    if countries is None or not all(zones):
        return None
    return {**params, "days": count, "start_at": start_at.isoformat(), "last_day": last_day.isoformat(),
            "latest_zone": latest_zone, "zones": ", ".join(zones),
            "countries": _EVERY_REGION_EN.sub(r"\1-*", countries.group(1)),
            "at_least_24h": "never before" in text}


def primary_deadline_text(decision: Mapping[str, Any] | None, stored: str = "",
                          reader_zone: str | None = None) -> str:
    """The explanation of the deadline the request's ``due_at`` comes from (the first that
    calls for action), translated; ``stored`` (the request's deadline_explanation) when the
    decision holds no such deadline (e.g. "Held until production")."""
    for deadline in (decision or {}).get("deadlines", []):
        if not deadline.get("informational"):
            if stored and deadline.get("explanation") != stored:
                break  # the stored explanation was written by something else: show it as stored
            return deadline_text(deadline, reader_zone)
    return stored
