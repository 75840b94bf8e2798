"""Every date-time in the admin is in the viewer's zone, labelled, with UTC on hover (issue 13
item 1; accounts/admin_dates.py).

The issue's example: an officer entered a range from 1 Sep 2026 00:00 in Paris; the admin showed
"Aug. 31, 2026, 10 p.m.". A legal-team member reads it in the provider's zone by default
(Brussels, same wall clock as Paris), or in the zone they chose.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.services import token_issue, user_set_time_zone
from outbox.models import OutboxMessage
from requests_app.models import Notification, Target, Timer

from .conftest import CHANGELIST, change_url, login

pytestmark = pytest.mark.django_db

# 1 Sep 2026 00:00 in Paris (CEST, UTC+2).
FROM = datetime(2026, 8, 31, 22, 0, tzinfo=UTC)
TO = datetime(2026, 9, 7, 21, 59, tzinfo=UTC)


def shown(instant: datetime, zone: str) -> str:
    """What the admin shows of ``instant`` to a viewer in ``zone``: local time, zone label, UTC on hover."""
    local = instant.astimezone(ZoneInfo(zone))
    return (f'<time datetime="{instant:%Y-%m-%dT%H:%M:%SZ}" title="{instant:%Y-%m-%d %H:%M} UTC">'
            f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({zone})</time>")


def readonly(page: str, field: str) -> str:
    """The contents of one read-only field of a change page."""
    match = re.search(rf'<div class="[^"]*field-{field}\b.*?<div class="readonly">(.*?)</div>', page, re.S)
    assert match, field
    return match.group(1)


def test_the_issue_example_reads_1_september_midnight_in_brussels(as_reviewer, make_request):
    obj = make_request(data_from=FROM, data_to=TO)
    page = as_reviewer.get(change_url(obj)).content.decode()
    assert readonly(page, "data_from") == shown(FROM, "Europe/Brussels")
    assert "2026-09-01 00:00 CEST (Europe/Brussels)" in page
    assert 'title="2026-08-31 22:00 UTC"' in page
    assert "Aug. 31, 2026, 10 p.m." not in page
    assert readonly(page, "received_at") == shown(obj.received_at, "Europe/Brussels")
    assert readonly(page, "due_at") == shown(obj.due_at, "Europe/Brussels")


def test_related_records_on_the_request_page_are_labelled(as_reviewer, make_request):
    obj = make_request()
    Target.objects.create(request=obj, kind="ip_address", value="203.0.113.7", timestamp=FROM)
    page = as_reviewer.get(change_url(obj)).content.decode()
    local = FROM.astimezone(ZoneInfo("Europe/Brussels"))
    assert f'title="{FROM:%Y-%m-%d %H:%M:%S} UTC">{local:%Y-%m-%d %H:%M:%S} CEST (Europe/Brussels)</time>' in page


def test_a_member_who_chose_new_york_reads_new_york_time(reviewer, make_request):
    user_set_time_zone(user=reviewer, time_zone="America/New_York")
    obj = make_request(data_from=FROM)
    page = login(reviewer).get(change_url(obj)).content.decode()
    assert readonly(page, "data_from") == shown(FROM, "America/New_York")
    assert "2026-08-31 18:00 EDT (America/New_York)" in page


def test_the_queue_due_column_is_labelled(as_reviewer, make_request):
    obj = make_request()
    page = as_reviewer.get(CHANGELIST).content.decode()
    local = obj.due_at.astimezone(ZoneInfo("Europe/Brussels"))
    # Short, to fit 1280 px: the abbreviation in the cell, the zone's name and UTC on hover.
    assert (f'title="{local:%Y-%m-%d %H:%M} {local.tzname()} (Europe/Brussels) · {obj.due_at:%Y-%m-%d %H:%M} UTC">'
            f"{local:%d %b %H:%M} {local.tzname()}</time>") in page
    assert "due (UTC)" not in page
    # The filter's "today" is a day of the provider's zone: its label names it.
    assert "due today in Europe/Brussels (open)" in page


def test_record_changelists_show_zoned_columns(legal_admin, make_request):
    obj = make_request()
    timer = Timer.objects.create(request=obj, kind="deadline_due", due_at=FROM)
    outbox = OutboxMessage.objects.create(topic="notify.decision", request=obj, payload={})
    note = Notification.objects.create(key="x:1", outbox=outbox, request=obj, event="notify.decision",
                                       recipient="a@b.example", language="en", subject="s")
    client = login(legal_admin)
    timers = client.get("/admin/requests_app/timer/").content.decode()
    assert shown(timer.due_at, "Europe/Brussels") in timers
    notes = client.get("/admin/requests_app/notification/").content.decode()
    assert shown(note.created_at, "Europe/Brussels") in notes
    page = client.get(f"/admin/requests_app/timer/{timer.pk}/change/").content.decode()
    assert readonly(page, "due_at") == shown(FROM, "Europe/Brussels")


def test_the_account_admin_labels_its_dates_and_filters(legal_admin, reviewer, officer):
    user_set_time_zone(user=legal_admin, time_zone="Europe/Lisbon")
    client = login(legal_admin)
    page = client.get(f"/admin/accounts/user/{officer.pk}/change/").content.decode()
    assert readonly(page, "date_joined") == shown(officer.date_joined, "Europe/Lisbon")
    token, _raw = token_issue(user=officer, name="case system")
    tokens = client.get("/admin/accounts/apitoken/").content.decode()
    assert shown(token.created_at, "Europe/Lisbon") in tokens
    # "Today" / "Past 7 days" of a date-time filter are days in the viewer's zone: the title says so.
    assert re.search(r"By revoked at \(Europe/Lisbon\)", tokens, re.I), re.findall(r"<h3>.*?</h3>", tokens)


def test_the_audit_timeline_is_labelled(as_reviewer, reviewer, make_request):
    from audit import trail as audit

    obj = make_request()
    audit.record("request.note_added", actor=reviewer, request=obj)
    page = as_reviewer.get(change_url(obj)).content.decode()
    timeline = page.split('class="lrp-timeline"', 1)[1].split("</ol>", 1)[0]
    assert "(Europe/Brussels)</time>" in timeline and 'title="' in timeline


def test_the_dashboard_no_longer_labels_brussels_time_utc(as_reviewer, make_request):
    """The oldest waiting emergency's receipt was printed in the viewer's zone and labelled "UTC"."""
    obj = make_request(emergency=True, status="verification_hold")
    page = as_reviewer.get("/admin/").content.decode()
    assert 'data-figure="oldest_emergency"' in page
    assert shown(obj.received_at, "Europe/Brussels") in page
    wrong = obj.received_at.astimezone(ZoneInfo("Europe/Brussels"))
    assert f"{wrong:%-d %b %Y %H:%M} UTC" not in page
