"""Day periods in civil time zones (Reg. 1182/71 Art. 3; domain.md §13.2).

Our own duties never end later than receipt + N x 24 h; where we wait on an authority the
period never ends before the end of its last day, rolled over Saturdays, Sundays and public
holidays, in the zone of our establishment and in every zone of the issuing authority.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from requests_app.rules import ProviderConfig, evaluate
from requests_app.rules.config import (
    DEFAULT_COUNTRY_TIME_ZONES,
    EE_EA_WINDOW,
    EE_PRESERVATION,
    EE_PRODUCTION,
)
from requests_app.rules.deadlines import day_end

from .builders import facts

FIRST = datetime(2026, 8, 18, 0, 0, tzinfo=UTC)  # the Regulation applies (Art. 34(2))
SWEEP_START = datetime(2026, 8, 1, 0, 0, tzinfo=UTC)
SWEEP_END = datetime(2028, 1, 1, 0, 0, tzinfo=UTC)
HOURS = int((SWEEP_END - SWEEP_START).total_seconds() // 3600)
BRUSSELS = "Europe/Brussels"


def _closed(day: date, countries: tuple[str, ...]) -> bool:
    if day.weekday() >= 5:
        return True
    return any(day in holidays.country_holidays(c, years=day.year) for c in countries)


def latest_local_end(start: datetime, days: int, issuer: str) -> datetime:
    """Oracle, written apart from the engine: end of the last day in every zone concerned."""
    countries = ("BE", issuer)
    zones = (BRUSSELS, *DEFAULT_COUNTRY_TIME_ZONES.get(issuer, ()))
    ends = []
    for name in zones:
        tz = ZoneInfo(name)
        last = start.astimezone(tz).date() + timedelta(days=days)
        while _closed(last, countries):
            last += timedelta(days=1)
        ends.append(datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz))
    return max(ends)


def _kinds(decision):  # type: ignore[no-untyped-def]
    return {d.kind: d for d in decision.deadlines}


def _window(received: datetime, issuer: str = "DE"):  # type: ignore[no-untyped-def]
    return _kinds(
        evaluate(
            facts(
                issuer=("judge", issuer),
                categories=("content",),
                enforcing_authority_notified=True,
                received_at=received,
            )
        )
    )["ea_window_end"]


def _preservation(received: datetime, issuer: str = "FR"):  # type: ignore[no-untyped-def]
    return _kinds(
        evaluate(facts("epoc_pr", ("judge", issuer), ("content",), received_at=received))
    )["preservation_expiry"]


# --- The classes of error of the audit ---------------------------------------------------


def test_late_evening_receipt_counts_the_local_day() -> None:
    # Tue 15 Sep 22:30 UTC is Wed 16 Sep 00:30 in Brussels: the last day is Sat 26 Sep,
    # moved to Mon 28 Sep; the window ends at midnight Brussels time (22:00 UTC).
    window = _window(datetime(2026, 9, 15, 22, 30, tzinfo=UTC))
    assert window.due_at == datetime(2026, 9, 28, 22, 0, tzinfo=UTC)
    assert window.not_before and window.time_zone == BRUSSELS


def test_the_issuers_later_zone_wins() -> None:
    # Thu 5 Nov 2026 + 10 days = Sun 15 Nov → Mon 16 Nov; the Azores (UTC-1) end last.
    window = _window(datetime(2026, 11, 5, 14, 0, tzinfo=UTC), issuer="PT")
    assert window.due_at == datetime(2026, 11, 17, 1, 0, tzinfo=UTC)
    assert "end of Mon 16 Nov 2026 in Azores" in window.explanation


def test_a_holiday_of_the_issuing_state_moves_the_end() -> None:
    # 15 May 2027 + 60 days = Wed 14 July, a French public holiday (not a Belgian one).
    expiry = _preservation(datetime(2027, 5, 15, 10, 0, tzinfo=UTC), issuer="FR")
    assert expiry.due_at == datetime(2027, 7, 15, 22, 0, tzinfo=UTC)
    assert "FR (every region) public holidays" in expiry.explanation


def test_issuer_holidays_can_be_switched_off() -> None:
    received = datetime(2027, 5, 15, 10, 0, tzinfo=UTC)
    d = evaluate(
        facts("epoc_pr", ("judge", "FR"), ("content",), received_at=received),
        ProviderConfig(issuer_holidays=False),
    )
    assert _kinds(d)["preservation_expiry"].due_at == datetime(2027, 7, 14, 22, 0, tzinfo=UTC)


def test_across_the_spring_dst_change_the_period_is_never_short() -> None:
    # Sat 27 Mar 2027 23:30 UTC = Sun 28 Mar 00:30 CET, the night the clocks go forward.
    received = datetime(2027, 3, 27, 23, 30, tzinfo=UTC)
    window = _window(received)
    assert window.due_at >= received + timedelta(days=10)
    assert window.due_at == latest_local_end(received, 10, "DE")


def test_explanation_reads_unambiguously_in_the_establishment_zone() -> None:
    received = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)
    d = evaluate(facts(received_at=received))
    due = _kinds(d)["production_due"]
    assert due.due_at == received + timedelta(days=10)
    assert due.explanation.startswith(
        "Transmit at the latest: by Fri 25 Sep 2026 10:00 Brussels time (10 days after receipt "
        "on Tue 15 Sep 2026 10:00 Brussels time"
    )
    assert "1182/71" in due.explanation and "UTC" not in due.explanation
    record = d.to_dict()["deadlines"][0]
    assert {"kind", "due_at", "legal_basis", "explanation", "time_zone", "rule_applied"} <= set(
        record
    )
    assert record["time_zone"] == BRUSSELS and record["rule_applied"] == "calendar_days"


def test_waiting_explanation_names_the_end_of_the_last_day() -> None:
    window = _window(datetime(2026, 9, 15, 8, 0, tzinfo=UTC))
    # Fri 25 Sep is a working day: not before midnight at its end, Brussels time.
    assert window.due_at == datetime(2026, 9, 25, 22, 0, tzinfo=UTC)
    assert window.explanation.startswith(
        "Do not transmit before the enforcing authority's window ends: not before "
        "Sat 26 Sep 2026 00:00 Brussels time (end of Fri 25 Sep 2026 in Brussels time; 10 days "
        "after receipt on Tue 15 Sep 2026"
    )


def test_the_establishment_zone_is_a_setting() -> None:
    received = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)
    d = evaluate(
        facts(
            issuer=("judge", "DE"),
            categories=("content",),
            enforcing_authority_notified=True,
            received_at=received,
        ),
        ProviderConfig(establishment_country="IE", establishment_time_zone="Europe/Dublin"),
    )
    window = _kinds(d)["ea_window_end"]
    assert window.due_at == datetime(2026, 9, 25, 23, 0, tzinfo=UTC)  # midnight IST
    assert "Dublin time" in window.explanation and window.time_zone == "Europe/Dublin"


def test_hour_periods_stay_hours_and_are_shown_locally() -> None:
    received = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)
    d = evaluate(facts(received_at=received, emergency=True, emergency_reason="Threat to life"))
    due = _kinds(d)["production_due"]
    assert due.due_at == received + timedelta(hours=8)
    assert "by Tue 15 Sep 2026 18:00 Brussels time (8 h after receipt" in due.explanation


# --- Property: every hour of 2026-08-01 … 2027-12-31 -------------------------------------


@pytest.mark.timeout(1800)  # every hour of 17 months: slow on a loaded machine
@pytest.mark.clock_independent
@pytest.mark.parametrize("issuer", ["DE", "PT", "FR"])
def test_sweep_every_hour_waiting_periods_and_own_duties(issuer: str) -> None:
    """Every hour of 2026-08-01 … 2027-12-31 through the deadline module the rules use
    (the engine passes the issuer's country: see the tests above and the property below)."""
    config = ProviderConfig().for_issuer(issuer)
    for hour in range(HOURS):
        received = SWEEP_START + timedelta(hours=hour)
        for days, key in ((10, EE_EA_WINDOW), (60, EE_PRESERVATION)):
            due = day_end(received, days, key, config)
            assert due >= latest_local_end(received, days, issuer), (received, days)
            assert due >= received + timedelta(days=days), (received, days)
        own = day_end(received, 10, EE_PRODUCTION, config)
        assert own <= received + timedelta(days=10), received


@settings(max_examples=150, deadline=None)
@given(
    hour=st.integers(min_value=0, max_value=HOURS - 1),
    minute=st.integers(min_value=0, max_value=59),
    issuer=st.sampled_from(sorted(c for c in DEFAULT_COUNTRY_TIME_ZONES if c not in {"EL", "US", "DK", "BE"})),
    emergency=st.booleans(),
)
def test_property_no_wait_ends_early_no_duty_ends_late(
    hour: int, minute: int, issuer: str, emergency: bool
) -> None:
    received = max(SWEEP_START + timedelta(hours=hour, minutes=minute), FIRST)
    if issuer in {"GB", "AU"}:
        return  # not member states: no e-Evidence order
    d = _kinds(
        evaluate(
            facts(
                issuer=("judge", issuer),
                categories=("content",),
                enforcing_authority_notified=True,
                emergency=emergency,
                emergency_reason="Threat to life" if emergency else "",
                received_at=received,
            )
        )
    )
    if emergency:
        assert d["production_due"].due_at == received + timedelta(hours=8)
        assert d["ea_objection_window_end"].due_at == received + timedelta(hours=96)
    elif "ea_window_end" in d:
        assert d["ea_window_end"].due_at >= latest_local_end(received, 10, issuer)
        assert d["production_due"].due_at >= d["ea_window_end"].due_at
    own = _kinds(evaluate(facts(issuer=("judge", issuer), received_at=received)))
    assert own["production_due"].due_at <= received + timedelta(days=10)
