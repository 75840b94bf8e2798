"""The e-mails of the journeys, as the real SMTP server receives them (issue 13 item 7): each
links to the request itself (the portal page for officers, the admin change page for the legal
team); one e-mail per event per person; nobody hears of their own action; the emergency alert
carries the 8-hour due time (Reg. (EU) 2023/1543 Art. 10(4)) and the current status; the
officer's emergency receipt announces the call-back to their switchboard; the call-back's
outcome and a refused four-eyes attempt reach whom they concern; dates in the recipient's zone,
the zone named, UTC beside it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest

from requests_app.notifications import EVENTS
from requests_app.services import delivery, review
from requests_app.services.errors import ServiceError
from requests_app.states import Status
from tests.four_eyes import approve_annex

from .conftest import ON_CALL, PERSONAL, deliver, rows, upload

pytestmark = pytest.mark.django_db

BASE = "https://portal.provider.example"


def _emergency(submit, **extra):
    return submit(emergency=True, validation=None, emergency_reason=PERSONAL["emergency_reason"], **extra)


def _shown(instant, zone: str) -> str:
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({zone}) · {instant.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _page(request, *, legal_team: bool) -> str:
    return (
        f"{BASE}/admin/requests_app/legalrequest/{request.pk}/change/"
        if legal_team
        else f"{BASE}/requests/{request.reference}/"
    )


# --- links -----------------------------------------------------------------------------------


def test_every_mail_of_a_journey_links_to_the_request_itself(submit, officer, team, smtp):
    """Submission, assignment, a message, an Annex III for approval, its decision: officers get
    the portal page of the request, the legal team its admin change page, nobody a bare index."""
    request = submit()
    review.review_assign(actor=team.reviewer, request=request, reviewer=team.reviewer2)
    review.request_refuse(actor=team.reviewer, request=request, reason="Abusive.")
    deliver()
    form = request.annex_iii.get()
    approve_annex(team.approver, form)
    deliver()
    assert len(smtp.messages) >= 8
    for mail in smtp.messages:
        (address,) = mail.rcpt_tos
        legal_team = address in team.everyone | set(ON_CALL)
        page = _page(request, legal_team=legal_team)
        assert page in mail.text and f'href="{page}"' in mail.html, (address, mail.subject)
        assert f"{BASE}/admin/\n" not in mail.text and f"{BASE}/\n" not in mail.text


# --- one e-mail per event per person -----------------------------------------------------------


def test_an_on_call_member_who_is_also_in_the_team_gets_one_alert_in_their_language(
    submit, officer, team, smtp, settings
):
    team.reviewer.language = "fr"
    team.reviewer.save(update_fields=["language"])
    settings.ON_CALL_EMAILS = [*ON_CALL, team.reviewer.email.upper()]
    request = _emergency(submit)
    deliver()
    counts = Counter(a for m in smtp.messages for a in m.rcpt_tos)
    assert counts[team.reviewer.email] == 1, [m.subject for m in smtp.to(team.reviewer.email)]
    assert all(n == 1 for n in counts.values()), counts
    (mail,) = smtp.to(team.reviewer.email)
    assert mail.subject != f"[{request.reference}] EMERGENCY request received"
    assert "Statut" in mail.text, "the member's own language, not the on-call default"
    assert _page(request, legal_team=True) in mail.text


# --- nobody is told of their own action ---------------------------------------------------------


def test_self_assignment_and_own_package_send_nothing_to_the_actor(submit, team, smtp):
    request = submit()
    deliver()
    smtp.clear()
    review.review_assign(actor=team.approver, request=request, reviewer=team.approver)
    delivery.response_prepare(actor=team.approver, request=request, files=[upload()], cover_note="")
    deliver()
    assert not smtp.to(team.approver.email)
    assert {m.rcpt_tos[0] for m in smtp.messages} == team.approvers - {team.approver.email}


def test_the_signer_of_an_annex_iii_is_not_asked_to_approve_it(submit, team, smtp):
    request = submit()
    deliver()
    smtp.clear()
    review.request_refuse(actor=team.approver, request=request, reason="Abusive.")
    deliver()
    assert {n.recipient for n in rows("notify.annex_iii_approval_needed", request)} == (
        team.approvers - {team.approver.email}
    )
    assert not smtp.to(team.approver.email)


# --- the emergency ------------------------------------------------------------------------------


def test_the_emergency_alert_carries_the_8_hour_due_time_and_the_status(submit, officer, team, smtp):
    request = _emergency(submit)
    deliver()
    subject = f"[{request.reference}] {EVENTS['alert.emergency'].subject}"
    mails = smtp.with_subject(subject)
    assert sorted(a for m in mails for a in m.rcpt_tos) == sorted(team.everyone | set(ON_CALL))
    due = request.due_at or request.received_at + timedelta(hours=8)
    assert due <= request.received_at + timedelta(hours=8)
    for mail in mails:
        assert f"Due: {_shown(due, 'Europe/Brussels')}" in mail.text
        assert f"Status: {request.get_status_display()}" in mail.text
        assert _page(request, legal_team=True) in mail.text


def test_the_officer_emergency_receipt_announces_the_call_back_in_the_officer_zone(submit, officer, smtp):
    request = _emergency(submit)
    deliver()
    (mail,) = smtp.to(officer.email)
    assert "call your authority's registered switchboard number back" in mail.text
    assert f"Due: {_shown(request.due_at, 'Europe/Paris')}" in mail.text
    assert _page(request, legal_team=False) in mail.text


def test_a_confirmed_call_back_tells_the_officer_and_the_rest_of_the_team_not_the_caller(submit, officer, team, smtp):
    request = _emergency(submit)
    assert request.status == Status.VERIFICATION_HOLD
    deliver()
    smtp.clear()
    review.emergency_callback_record(
        actor=team.reviewer, request=request, outcome="confirmed", person_reached=PERSONAL["person_reached"]
    )
    deliver()
    expected = (team.everyone | set(ON_CALL) | {officer.email}) - {team.reviewer.email}
    assert sorted(a for m in smtp.messages for a in m.rcpt_tos) == sorted(expected)
    (to_officer,) = smtp.to(officer.email)
    assert request.reference in to_officer.subject
    assert "confirmed" in to_officer.text and _page(request, legal_team=False) in to_officer.text
    assert PERSONAL["person_reached"] not in to_officer.everything()
    (to_team,) = smtp.to(team.approver.email)
    assert _page(request, legal_team=True) in to_team.text


def test_an_unconfirmed_call_back_alerts_the_team_but_not_the_caller(submit, officer, team, smtp):
    request = _emergency(submit)
    deliver()
    smtp.clear()
    review.emergency_callback_record(actor=team.admin, request=request, outcome="not_confirmed")
    deliver()
    fraud = {n.recipient for n in rows("alert.suspected_fraud", request)}
    assert fraud == (team.admins | set(ON_CALL)) - {team.admin.email}
    assert not [m for m in smtp.to(team.admin.email) if "fraudulent" in m.subject]


# --- four eyes ------------------------------------------------------------------------------------


def test_a_refused_four_eyes_attempt_on_an_annex_iii_alerts_the_admins(submit, team, smtp):
    request = submit()
    review.request_refuse(actor=team.approver, request=request, reason="Abusive.")
    deliver()
    smtp.clear()
    form = request.annex_iii.get()
    with pytest.raises(ServiceError):
        approve_annex(team.approver, form)
    deliver()
    alerted = {n.recipient for n in rows("alert.four_eyes_refused", request)}
    assert alerted == team.admins
    (mail,) = smtp.to(team.admin.email)
    assert request.reference in mail.subject and _page(request, legal_team=True) in mail.text
    assert not smtp.to(team.approver.email), "the person refused is told on the page, not by e-mail"


def test_a_refused_four_eyes_attempt_on_a_response_alerts_the_admins_but_not_the_actor(submit, team, smtp):
    request = submit()
    package = delivery.response_prepare(actor=team.admin, request=request, files=[upload()], cover_note="")
    deliver()
    smtp.clear()
    with pytest.raises(ServiceError):
        review.review_approve(
            actor=team.admin, request=request, package_id=package.pk, digests=delivery.package_digests(package)
        )
    deliver()
    assert {n.recipient for n in rows("alert.four_eyes_refused", request)} == team.admins - {team.admin.email}
    assert not smtp.to(team.admin.email)


# --- the digest ---------------------------------------------------------------------------------


def test_each_item_of_a_digest_links_to_its_request(settings, submit, team, smtp):
    from requests_app import notifications

    settings.NOTIFY_DIGEST_MINUTES = 15
    first, second = submit(), submit()
    deliver()
    smtp.clear()
    notifications.send_digests(first.received_at + timedelta(minutes=30))
    (mail,) = smtp.to(team.reviewer.email)
    for request in (first, second):
        assert _page(request, legal_team=True) in mail.text, mail.text
