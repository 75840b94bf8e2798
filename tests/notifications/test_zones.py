"""Every date of an e-mail is in the recipient's zone, labelled, with UTC beside it (issue 13
items 1 and 7), as the real SMTP server receives it.

The zone is the recipient's profile setting, else the default for them (accounts/zones.py):
the authority's country for an officer (Paris for the French police), the provider's zone for
the legal team (Brussels) and for the on-call addresses. Expected texts are computed from the
stored instant, so they hold on any frozen instant (summer or winter time).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.services import user_set_time_zone
from requests_app.models import LegalRequest
from requests_app.notifications import EVENTS
from requests_app.states import Status

from .conftest import ON_CALL, PERSONAL, deliver

pytestmark = pytest.mark.django_db


def shown(instant: datetime, zone: str) -> str:
    """What an e-mail says of ``instant`` to a reader in ``zone``."""
    local = instant.astimezone(ZoneInfo(zone))
    return (f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({zone}) · "
            f"{instant.astimezone(UTC):%Y-%m-%d %H:%M} UTC")


def due_line(mail) -> str:
    [line] = [x for x in mail.text.splitlines() if x.startswith("Due: ")]
    return line


def test_each_recipient_reads_the_due_time_in_their_own_zone(submit, officer, team, smtp):
    """The officer in Paris (their authority's country), the legal team in Brussels (the
    provider's zone), a member who chose Lisbon: one instant, three local times, each labelled."""
    user_set_time_zone(user=team.reviewer2, time_zone="Europe/Lisbon")
    request = submit()
    assert request.due_at is not None
    deliver()
    [to_officer] = smtp.to(officer.email)
    assert due_line(to_officer) == f"Due: {shown(request.due_at, 'Europe/Paris')}"
    assert shown(request.due_at, "Europe/Paris") in to_officer.html
    [to_reviewer] = smtp.to(team.reviewer.email)
    assert due_line(to_reviewer) == f"Due: {shown(request.due_at, 'Europe/Brussels')}"
    [to_lisbon] = smtp.to(team.reviewer2.email)
    assert due_line(to_lisbon) == f"Due: {shown(request.due_at, 'Europe/Lisbon')}"
    # Lisbon is an hour behind Paris and Brussels, whatever the season.
    assert due_line(to_lisbon) != due_line(to_reviewer)


def test_an_officer_who_chose_new_york_reads_new_york_time(submit, officer, smtp):
    user_set_time_zone(user=officer, time_zone="America/New_York")
    request = submit()
    deliver()
    [mail] = smtp.to(officer.email)
    local = request.due_at.astimezone(ZoneInfo("America/New_York"))
    assert local.tzname() in {"EDT", "EST"}
    assert due_line(mail) == f"Due: {shown(request.due_at, 'America/New_York')}"


def test_an_officer_of_a_us_authority_defaults_to_new_york(make_authority, smtp, team):
    from accounts.services import officer_create
    from requests_app.notifications import render

    fbi = make_authority(name="FBI Field Office", country="US", domains=["fbi.example.gov"])
    agent = officer_create(language="en", authority=fbi, email="agent@fbi.example.gov")
    request = LegalRequest.objects.create(
        reference="LRP-2026-990001", authority=fbi, submitted_by=agent, country="US", instrument="epoc",
        lifecycle="production", status=Status.IN_REVIEW, data_categories=["subscriber"], receipt_hash="0" * 64,
        due_at=datetime(2027, 1, 14, 21, 30, tzinfo=UTC))
    _subject, text, _html = render("notify.decision", request, "en", recipient=agent.email)
    assert "Due: 2027-01-14 16:30 EST (America/New_York) · 2027-01-14 21:30 UTC" in text
    # The same instant to the legal team: Brussels, winter time.
    _subject, text, _html = render("notify.decision", request, "en", legal_team=True, recipient=team.reviewer.email)
    assert "Due: 2027-01-14 22:30 CET (Europe/Brussels) · 2027-01-14 21:30 UTC" in text


def test_the_emergency_alert_gives_the_8_hours_in_the_team_zone(submit, team, smtp):
    request = submit(emergency=True, validation=None, emergency_reason=PERSONAL["emergency_reason"],
                     validate=False)
    deliver()
    due = request.received_at + timedelta(hours=8)
    subject = f"[{request.reference}] {EVENTS['alert.emergency'].subject}"
    for address in [*ON_CALL, team.reviewer.email]:
        [mail] = [m for m in smtp.to(address) if m.subject == subject]
        assert due_line(mail) == f"Due: {shown(due, 'Europe/Brussels')}", address


def test_the_clarification_date_is_in_the_officer_zone(submit, officer, smtp):
    request = submit(targets=[{"kind": "ip_address", "value": "198.51.100.23"}])
    assert request.status == Status.CLARIFICATION_REQUESTED
    reminder = next(d for d in request.decision["deadlines"] if d["kind"] == "clarification_reminder")
    deliver()
    [mail] = [m for m in smtp.to(officer.email) if "Clarification" in m.subject]
    answer_by = datetime.fromisoformat(reminder["due_at"])
    assert f"Please answer by: {shown(answer_by, 'Europe/Paris')}" in mail.text
    assert shown(answer_by, "Europe/Paris") in mail.html


def test_every_date_in_the_templates_goes_through_the_zone_filter():
    """No e-mail template formats a date itself (``|date``, ``|time``): each goes through
    ``when_text``, which labels the zone."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates" / "emails"
    for path in root.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "|date" not in text and "|time" not in text and " UTC" not in text, path.name
