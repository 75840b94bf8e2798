"""Issue 14 item 5: after a call-back that does not confirm, the submitting account is held
pending review (tokens revoked, sessions ended), the authority sees a neutral status; password
reset/change and removal of a second factor revoke the person's API tokens."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import ApiToken
from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.services import review
from requests_app.states import Status
from tests.conftest import client_for, epoc_body
from tests.four_eyes import approve_annex

pytestmark = pytest.mark.django_db


def sessions_of(user) -> int:
    return sum(1 for s in Session.objects.all() if str(s.get_decoded().get("_auth_user_id")) == str(user.pk))


@pytest.fixture
def held(submit):
    request = submit(emergency=True, emergency_reason="Threat to life", validation=None, summary="Missing person.",
                     offence={**epoc_body()["offence"], "description": "Abduction"})
    assert request.status == Status.VERIFICATION_HOLD
    return request


def test_not_confirmed_holds_the_submitting_account(held, officer, colleague, reviewer):
    api = client_for(officer)
    colleague_api = client_for(colleague)
    web = Client()
    web.force_login(officer)
    assert sessions_of(officer) == 1
    review.emergency_callback_record(actor=reviewer, request=held, outcome="not_confirmed")
    officer.refresh_from_db()
    assert officer.approval_status == "pending" and not officer.is_approved_officer
    assert not ApiToken.objects.filter(user=officer, revoked_at__isnull=True).exists()
    assert sessions_of(officer) == 0
    assert api.get("/api/v1/requests/").status_code == 401
    assert colleague_api.get("/api/v1/requests/").status_code == 200  # only the sending account
    event = AuditEvent.objects.get(action="officer.suspended_pending_review")
    assert event.data["tokens_revoked"] == 1
    assert OutboxMessage.objects.filter(topic="alert.account_held", request=held).exists()


def test_the_authority_sees_a_neutral_status(held, colleague, reviewer, approver):
    review.emergency_callback_record(actor=reviewer, request=held, outcome="not_confirmed")
    approve_annex(approver, review.pending_refusal(held))
    body = client_for(colleague).get(f"/api/v1/requests/{held.reference}/")
    assert body.status_code == 200
    assert "fraud" not in body.content.decode().lower()
    assert body.json()["status"] == "refused"


@pytest.mark.parametrize("signal_name", ["password_reset", "password_changed", "authenticator_removed"])
def test_credential_changes_revoke_api_tokens(officer, colleague, signal_name):
    from allauth.account import signals as account_signals
    from allauth.mfa import signals as mfa_signals

    api = client_for(officer)
    colleague_api = client_for(colleague)
    signal = getattr(account_signals, signal_name, None) or getattr(mfa_signals, signal_name)
    signal.send(sender=type(officer), request=None, user=officer, authenticator=None)
    assert api.get("/api/v1/requests/").status_code == 401
    assert colleague_api.get("/api/v1/requests/").status_code == 200
    assert not ApiToken.objects.filter(user=officer, revoked_at__isnull=True).exists()


def test_changing_the_password_through_the_portal_revokes_tokens(officer):
    from django.urls import reverse

    from tests.web.conftest import reauthenticated

    api = client_for(officer)
    web = Client()
    web.force_login(officer)
    reauthenticated(web, officer)
    response = web.post(reverse("account_change_password"), {
        "oldpassword": "correct-horse-battery", "password1": "a-new-long-passphrase-7",
        "password2": "a-new-long-passphrase-7"})
    assert response.status_code in (200, 302)
    officer.refresh_from_db()
    assert officer.check_password("a-new-long-passphrase-7")
    assert api.get("/api/v1/requests/").status_code == 401
