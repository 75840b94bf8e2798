"""Digest and quiet hours for the legal team's non-urgent e-mails; never for urgent events, never
for authority officers (settings NOTIFY_DIGEST_MINUTES / NOTIFY_QUIET_HOURS / NOTIFY_TIME_ZONE)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from requests_app import notifications
from requests_app.models import Notification
from requests_app.services import review

from .conftest import PERSONAL, deliver
from .scenarios import PARAMS, World

pytestmark = pytest.mark.django_db

# 2027-01-14 21:30 UTC is 22:30 in Brussels (UTC+1 in winter).
EVENING = datetime(2027, 1, 14, 21, 30, tzinfo=UTC)  # after 18 Aug 2026: a binding EPOC (Reg. 2023/1543 Art. 34(2))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(("now", "digest", "quiet", "expected"), [
    pytest.param(EVENING, 0, "", None, id="off"),
    pytest.param(EVENING, 15, "", EVENING + timedelta(minutes=15), id="digest"),
    pytest.param(EVENING, 0, "20:00-07:00", utc(2027, 1, 15, 6, 0), id="quiet-evening-part"),
    pytest.param(utc(2027, 1, 15, 3, 0), 0, "20:00-07:00", utc(2027, 1, 15, 6, 0), id="quiet-morning-part"),
    pytest.param(utc(2027, 1, 15, 11, 30), 0, "12:00-14:00", utc(2027, 1, 15, 13, 0), id="quiet-same-day"),
    pytest.param(utc(2027, 1, 15, 9, 0), 0, "12:00-14:00", None, id="outside-quiet"),
    pytest.param(utc(2027, 1, 15, 5, 50), 15, "20:00-07:00", utc(2027, 1, 15, 6, 5), id="digest-after-quiet-end"),
    pytest.param(EVENING, 15, "20:00-07:00", utc(2027, 1, 15, 6, 0), id="digest-within-quiet"),
    # Brussels moves to summer time in the night of 28-29 March 2026: 07:00 local is 05:00 UTC.
    pytest.param(utc(2026, 3, 28, 22, 0), 0, "22:00-07:00", utc(2026, 3, 29, 5, 0), id="dst-night"),
])
def test_held_until(settings, now, digest, quiet, expected):
    settings.NOTIFY_DIGEST_MINUTES, settings.NOTIFY_QUIET_HOURS = digest, quiet
    assert notifications.held_until(now) == expected


def test_a_digest_slot_inside_quiet_hours_waits_for_their_end(settings):
    settings.NOTIFY_DIGEST_MINUTES, settings.NOTIFY_QUIET_HOURS = 15, "22:00-07:00"
    ten_to_ten = utc(2027, 1, 14, 20, 50)  # 21:50 in Brussels; the slot would be 22:05, in quiet hours
    assert notifications.held_until(ten_to_ten) == utc(2027, 1, 15, 6, 0)


def statuses(topic: str) -> dict[str, str]:
    return dict(Notification.objects.filter(event=topic).values_list("recipient", "status"))


def test_non_urgent_mail_to_the_legal_team_is_held_then_sent_as_one_digest(settings, officer, team, submit, smtp):
    settings.NOTIFY_DIGEST_MINUTES = 15
    with time_machine.travel(EVENING, tick=False):
        first = submit()
        second = submit()
        review.message_from_authority(actor=officer, request=first, body=PERSONAL["message"])
        deliver()
        deliver()  # a redelivered task neither sends nor releases held rows
    held = Notification.objects.filter(status="held")
    assert set(held.values_list("recipient", flat=True)) == team.everyone
    assert held.count() == 3 * len(team.everyone)
    assert set(held.values_list("deliver_after", flat=True)) == {EVENING + timedelta(minutes=15)}
    assert statuses("notify.new_request")[officer.email] == "sent", "authority officers are never held"
    assert smtp.recipients() == [officer.email, officer.email]

    smtp.clear()
    for moment in (EVENING, EVENING + timedelta(minutes=14, seconds=59)):
        with time_machine.travel(moment, tick=False):
            assert notifications.send_digests() == 0
    assert smtp.messages == []

    with time_machine.travel(EVENING + timedelta(minutes=15, seconds=1), tick=False):
        assert notifications.send_digests() == len(team.everyone)
        assert notifications.send_digests() == 0
    assert smtp.recipients() == sorted(team.everyone)
    expected_items = {f"[{first.reference}] Request received and validated",
                      f"[{second.reference}] Request received and validated",
                      f"[{first.reference}] New message from the authority"}
    for mail in smtp.messages:
        assert mail.subject == "Digest: 3 updates"
        assert all(item in mail.text for item in expected_items), mail.text
        assert not any(value in mail.text for value in PERSONAL.values())
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_quiet_hours_hold_the_team_until_morning_not_the_officer(settings, officer, team, submit, smtp):
    settings.NOTIFY_QUIET_HOURS = "20:00-07:00"
    morning = utc(2027, 1, 15, 6, 0)  # 07:00 in Brussels
    with time_machine.travel(EVENING, tick=False):
        request = submit()
        review.message_to_authority(actor=team.reviewer, request=request, body=PERSONAL["message"])
        deliver()
    assert smtp.recipients() == [officer.email, officer.email]
    assert set(Notification.objects.filter(status="held").values_list("deliver_after", flat=True)) == {morning}
    smtp.clear()
    with time_machine.travel(morning - timedelta(minutes=1), tick=False):
        assert notifications.send_digests() == 0
    with time_machine.travel(morning + timedelta(minutes=1), tick=False):
        assert notifications.send_digests() == len(team.everyone)
    assert smtp.recipients() == sorted(team.everyone)
    assert all(m.subject == "Digest: 1 updates" for m in smtp.messages)


URGENT = [p for p in PARAMS if p.id in {"alert.emergency", "alert.suspected_fraud", "alert.deadline_breach",
                                         "alert.deadline_due"}]


@pytest.mark.parametrize("scenario", URGENT)
def test_urgent_events_are_never_held(settings, officer, team, submit, smtp, scenario):
    settings.NOTIFY_DIGEST_MINUTES = 60
    settings.NOTIFY_QUIET_HOURS = "12:00-11:59"  # quiet all day but one minute
    world = World(officer=officer, team=team, submit=submit, smtp=smtp)
    if scenario.id in {"alert.emergency", "alert.suspected_fraud"}:
        submit()  # an ordinary request, whose team e-mails are held: an emergency sends the team no other one
    request, expected = scenario.run(world)
    deliver()
    urgent = Notification.objects.filter(event=scenario.topic, request=request)
    assert {n.recipient for n in urgent} == expected
    assert {(n.status, n.deliver_after, n.urgent) for n in urgent} == {("sent", None, True)}
    assert sorted(a for m in smtp.messages if scenario.topic in _topics(m) for a in m.rcpt_tos) == sorted(expected)
    assert Notification.objects.filter(status="held").exists(), "the holding rules were in force"


def _topics(mail) -> set[str]:
    return {topic for topic, event in notifications.EVENTS.items() if mail.subject.endswith(str(event.subject))}


def held_overnight(submit) -> datetime:
    """Validated requests in the evening: their team notifications are held until the morning."""
    with time_machine.travel(EVENING, tick=False):
        submit()
        deliver()
    return utc(2027, 1, 15, 6, 0)


def test_smtp_down_at_digest_time_keeps_the_rows_held_until_it_is_back(settings, officer, team, submit, smtp):
    settings.NOTIFY_QUIET_HOURS = "20:00-07:00"
    morning = held_overnight(submit)
    smtp.clear()
    smtp.stop()
    with time_machine.travel(morning + timedelta(minutes=1), tick=False):
        assert notifications.send_digests() == 0  # nothing lost: the failure is recorded on the rows
        assert Notification.objects.filter(recipient__in=team.everyone).exclude(last_error="").exists()
        assert set(Notification.objects.filter(recipient__in=team.everyone).values_list("status", flat=True)) == {
            "held"}
        smtp.start()
        assert notifications.send_digests() == len(team.everyone)
        assert notifications.send_digests() == 0
    assert smtp.recipients() == sorted(team.everyone)


def test_one_refused_mailbox_does_not_stop_the_other_digests(settings, officer, team, submit, smtp):
    settings.NOTIFY_QUIET_HOURS = "20:00-07:00"
    morning = held_overnight(submit)
    smtp.clear()
    refused = sorted(team.everyone)[2]
    smtp.refuse(refused)
    with time_machine.travel(morning + timedelta(minutes=1), tick=False):
        assert notifications.send_digests() == len(team.everyone) - 1
    assert smtp.recipients() == sorted(team.everyone - {refused})
    assert Notification.objects.get(recipient=refused).status != "sent"
