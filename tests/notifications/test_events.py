"""Every event of ``notifications.EVENTS`` reaches exactly its audience, by a real SMTP exchange,
with the reference in the subject and no personal data anywhere (DESIGN.md §4.4; security.md §4.E F13)."""

from __future__ import annotations

import pytest
from django.conf import settings

from requests_app.notifications import EVENTS

from .conftest import PERSONAL, deliver, rows
from .scenarios import ACCOUNT_EVENTS, PARAMS, SCENARIOS, Scenario, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(officer, team, submit, smtp) -> World:
    return World(officer=officer, team=team, submit=submit, smtp=smtp)


def test_every_event_has_a_scenario():
    assert {s.topic for s in SCENARIOS} | ACCOUNT_EVENTS == set(EVENTS)


@pytest.mark.parametrize("scenario", PARAMS)
def test_event_reaches_exactly_its_audience(world: World, scenario: Scenario):
    request, expected = scenario.run(world)
    deliver()
    subject = f"[{request.reference}] {EVENTS[scenario.topic].subject}"
    mails = world.smtp.with_subject(subject)
    assert sorted(a for m in mails for a in m.rcpt_tos) == sorted(expected)
    assert all(len(m.rcpt_tos) == 1 for m in mails), "one e-mail per recipient, nobody sees the others"
    assert {n.recipient for n in rows(scenario.topic, request)} == expected
    assert {n.status for n in rows(scenario.topic, request)} == {"sent"}
    for mail in mails:
        assert mail.message["To"] == mail.rcpt_tos[0]
        assert mail.message["From"] == settings.DEFAULT_FROM_EMAIL
        assert request.reference in mail.text and request.reference in mail.html
        assert str(EVENTS[scenario.topic].body) in mail.text
        # The request's own page: the admin's for the legal team, the portal's for officers.
        if EVENTS[scenario.topic].outside:
            # No portal account (the enforcing authority): no link it cannot use, the reference instead.
            assert "portal.provider.example/" not in mail.text and "href=" not in mail.html
            assert "no account in the provider's portal" in mail.text
            continue
        team_member = mail.rcpt_tos[0] in world.team.everyone | set(settings.ON_CALL_EMAILS)
        page = (f"/admin/requests_app/legalrequest/{request.pk}/change/" if team_member
                else f"/requests/{request.reference}/")
        assert f"https://portal.provider.example{page}" in mail.text
        assert f'href="https://portal.provider.example{page}"' in mail.html
    assert not world.smtp.to("gone@provider.example") and not world.smtp.to("helpdesk@provider.example")


@pytest.mark.parametrize("scenario", PARAMS)
def test_no_personal_data_in_any_mail(world: World, scenario: Scenario):
    request, _ = scenario.run(world)
    deliver()
    assert world.smtp.messages, "the scenario sent nothing"
    for mail in world.smtp.messages:
        content = mail.everything()
        leaked = {label: value for label, value in PERSONAL.items() if value in content}
        assert not leaked, f"{mail.subject!r} to {mail.rcpt_tos} leaks {leaked}"
        assert "suspect_account" not in mail.headers and PERSONAL["phone"] not in mail.headers
    for notification in rows(scenario.topic, request):
        assert not any(value in notification.subject for value in PERSONAL.values())
