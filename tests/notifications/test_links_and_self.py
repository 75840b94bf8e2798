"""Each e-mail leads to the request itself, each person gets one e-mail per event, and nobody
hears of their own action (issue 13 item 7)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from requests_app.notifications import EVENTS
from requests_app.services import delivery, review

from .conftest import ON_CALL, PERSONAL, deliver, rows, upload

pytestmark = pytest.mark.django_db

BASE = "https://portal.provider.example"
BRUSSELS = ZoneInfo("Europe/Brussels")


def _emergency(submit):
    return submit(emergency=True, validation=None, emergency_reason=PERSONAL["emergency_reason"])


def test_officer_link_is_the_portal_page_and_the_team_link_the_admin_page(submit, officer, team, smtp):
    request = submit()
    deliver()
    portal = f"{BASE}/requests/{request.reference}/"
    admin = f"{BASE}/admin/requests_app/legalrequest/{request.pk}/change/"
    [to_officer] = smtp.to(officer.email)
    assert portal in to_officer.text and f'href="{portal}"' in to_officer.html
    assert "/admin/" not in to_officer.text
    for address in team.everyone:
        [mail] = smtp.to(address)
        assert admin in mail.text and f'href="{admin}"' in mail.html
        assert portal not in mail.text


def test_on_call_address_gets_the_admin_page(submit, team, smtp):
    request = _emergency(submit)
    deliver()
    for address in ON_CALL:
        [mail] = smtp.to(address)
        assert f"{BASE}/admin/requests_app/legalrequest/{request.pk}/change/" in mail.text


def test_an_emergency_sends_one_mail_to_each_member(submit, officer, team, smtp):
    _emergency(submit)
    deliver()
    counts = Counter(a for m in smtp.messages for a in m.rcpt_tos)
    for address in team.everyone | set(ON_CALL):
        assert counts[address] == 1, (address, [m.subject for m in smtp.to(address)])
    assert counts[officer.email] == 1


def test_emergency_alert_carries_the_8_hour_due_time_and_status(submit, team, smtp):
    request = _emergency(submit)
    deliver()
    mails = smtp.with_subject(f"[{request.reference}] {EVENTS['alert.emergency'].subject}")
    assert len(mails) == len(team.everyone | set(ON_CALL))
    due = request.due_at or request.received_at + timedelta(hours=8)
    assert due <= request.received_at + timedelta(hours=8)
    for mail in mails:
        assert f"Due: {due.astimezone(BRUSSELS):%Y-%m-%d %H:%M %Z} (Europe/Brussels) · {due:%Y-%m-%d %H:%M} UTC" \
            in mail.text  # the team's zone (tests/notifications/test_zones.py)
        assert f"Status: {request.get_status_display()}" in mail.text


def test_emergency_alert_sent_before_validation_still_carries_the_due_time(submit, team, smtp):
    request = submit(emergency=True, validation=None, emergency_reason=PERSONAL["emergency_reason"], validate=False)
    assert request.due_at is None
    deliver()
    [mail, *_] = smtp.to(team.reviewer.email)
    assert mail.subject == f"[{request.reference}] {EVENTS['alert.emergency'].subject}"
    due = request.received_at + timedelta(hours=8)
    assert f"Due: {due.astimezone(BRUSSELS):%Y-%m-%d %H:%M %Z} (Europe/Brussels) · {due:%Y-%m-%d %H:%M} UTC" \
        in mail.text
    assert f"Status: {request.get_status_display()}" in mail.text


def test_officer_emergency_receipt_announces_the_call_back(submit, officer, smtp):
    _emergency(submit)
    deliver()
    [mail] = smtp.to(officer.email)
    assert "call your authority's registered switchboard number back" in mail.text


def test_ordinary_receipt_announces_no_call_back(submit, officer, smtp):
    submit()
    deliver()
    [mail] = smtp.to(officer.email)
    assert "switchboard" not in mail.text


def test_self_assignment_sends_nothing(submit, team, smtp):
    request = submit()
    deliver()
    smtp.clear()
    review.review_assign(actor=team.reviewer, request=request, reviewer=team.reviewer)
    deliver()
    assert not smtp.messages
    assert not rows("notify.assigned", request)


def test_preparer_is_not_asked_to_approve_their_own_package(submit, team, smtp):
    request = submit()
    deliver()
    smtp.clear()
    delivery.response_prepare(actor=team.approver, request=request, files=[upload()], cover_note="")
    deliver()
    assert {n.recipient for n in rows("notify.approval_needed", request)} == team.approvers - {team.approver.email}
    assert not smtp.to(team.approver.email)
