"""Who hears of an event, without sending (``notifications.recipients`` over the real models)."""

from __future__ import annotations

import pytest

from requests_app.notifications import EVENTS, recipients
from requests_app.services import review

from .conftest import ON_CALL

pytestmark = pytest.mark.django_db


def who(topic, request=None, payload=None) -> set[str]:
    return set(recipients(EVENTS[topic], request, payload or {}))


def test_on_call_addresses_are_deduplicated_case_insensitively(settings, team):
    settings.ON_CALL_EMAILS = ["OnCall@Provider.example", "oncall@provider.example", team.reviewer.email.upper()]
    assert who("alert.suspected_fraud") == {"oncall@provider.example", team.reviewer.email} | team.admins


def test_a_deactivated_submitter_hears_nothing(submit, officer, team):
    request = submit()
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    assert who("notify.new_request", request) == team.everyone
    assert who("notify.message_to_authority", request) == set()


def test_officers_of_the_authority_never_hear_as_legal_team(submit, officer, colleague, team):
    request = submit()
    addresses = set().union(*(who(topic, request, {"user_id": team.reviewer2.pk}) for topic in EVENTS))
    assert colleague.email not in addresses
    assert addresses == {officer.email, *team.everyone, *ON_CALL}


@pytest.mark.parametrize("topic", ["alert.deadline_warn", "alert.reminder", "notify.message_from_authority"])
def test_alerts_for_a_departed_assignee_reach_the_legal_team(submit, team, topic):
    request = submit()
    review.review_assign(actor=team.reviewer, request=request, reviewer=team.reviewer2)
    request.refresh_from_db()
    team.reviewer2.is_active = False
    team.reviewer2.save(update_fields=["is_active"])
    request.assigned_to.refresh_from_db()
    assert who(topic, request) == team.everyone - {team.reviewer2.email}
