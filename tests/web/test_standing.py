"""Issue 14 item 1: suspension and deactivation are kill switches on every face.

An officer of an authority that is not verified (pending, suspended, revoked) reaches only the
notice page on the web (pages, htmx fragments, downloads), gets 403 from the API, and every
service refuses them: submit, download, approve a colleague, issue a token.
"""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import ApiToken, Authority, User
from accounts.services import officer_approve, officer_create, token_issue
from audit.models import AuditEvent
from requests_app.models import Attachment, LegalRequest
from requests_app.services.attachments import attachment_add, attachment_open
from requests_app.services.submission import request_submit
from tests.conftest import client_for
from tests.requests_app.api.helpers import pdf_bytes, upload

from .conftest import signed_in, validated

pytestmark = pytest.mark.django_db

HELD = ["pending", "suspended", "revoked"]


def hold(authority, status="suspended"):
    Authority.objects.filter(pk=authority.pk).update(vetting_status=status)
    authority.refresh_from_db()


@pytest.mark.parametrize("status", HELD)
@pytest.mark.parametrize("name", ["portal:request_list", "portal:request_new", "portal:tokens", "portal:home"])
def test_web_pages_show_only_the_notice(status, name, authority, officer):
    client = signed_in(officer)
    hold(authority, status)
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:awaiting_approval")
    notice = client.get(reverse("portal:awaiting_approval"))
    assert notice.status_code == 200
    assert b"under review" in notice.content
    assert b"fraud" not in notice.content.lower()


def test_request_detail_and_htmx_check_answer_the_notice(own_request, authority, officer):
    client = signed_in(officer)
    hold(authority)
    detail = client.get(reverse("portal:request_detail", args=[own_request.reference]))
    assert detail.status_code == 302 and detail["Location"] == reverse("portal:awaiting_approval")
    check = client.post(reverse("portal:request_check"), {"instrument": "epoc"}, HTTP_HX_REQUEST="true")
    assert check.status_code == 302 and check["Location"] == reverse("portal:awaiting_approval")


def test_download_is_refused_on_the_web_and_in_the_service(own_request, authority, officer):
    attachment = attachment_add(actor=officer, request=own_request, upload=upload(pdf_bytes()), kind="other")
    client = signed_in(officer)
    hold(authority)
    officer.refresh_from_db()
    response = client.get(reverse("portal:attachment_download", args=[own_request.reference, attachment.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("portal:awaiting_approval")
    with pytest.raises(PermissionDenied):
        attachment_open(actor=officer, attachment=attachment)
    assert not AuditEvent.objects.filter(action="attachment.downloaded").exists()


def test_upload_is_refused_in_the_service(own_request, authority, officer):
    hold(authority)
    officer.refresh_from_db()
    with pytest.raises(PermissionDenied):
        attachment_add(actor=officer, request=own_request, upload=upload(pdf_bytes()), kind="other")
    assert not Attachment.objects.exists()


def test_api_answers_403_and_the_token_stops_working(authority, officer):
    api = client_for(officer)
    assert api.get("/api/v1/requests/").status_code == 200
    hold(authority)
    assert api.get("/api/v1/requests/").status_code == 403


def test_submit_service_refuses(authority, officer):
    hold(authority)
    officer.refresh_from_db()
    with pytest.raises(PermissionDenied):
        request_submit(actor=officer, data=validated(), channel="api")
    assert not LegalRequest.objects.exists()


def test_authority_admin_of_a_suspended_authority_approves_no_colleague(authority, pending_officer, authority_admin):
    hold(authority)
    authority_admin.refresh_from_db()
    with pytest.raises(PermissionDenied):
        officer_approve(actor=authority_admin, officer=pending_officer)
    pending_officer.refresh_from_db()
    assert pending_officer.approval_status == "pending"


def test_no_token_is_issued_to_an_officer_of_a_suspended_authority(authority, officer):
    hold(authority)
    officer.refresh_from_db()
    with pytest.raises(ValidationError):
        token_issue(actor=officer, user=officer)
    assert not ApiToken.objects.exists()


def test_suspending_an_authority_ends_sessions_revokes_tokens_and_is_audited(
        authority, officer, colleague, other_officer, legal_admin):
    from accounts.services import authority_suspend

    web = signed_in(officer)
    other_web = signed_in(other_officer)
    api = client_for(colleague)
    other_api = client_for(other_officer)
    authority_suspend(actor=legal_admin, authority=authority, reason="Registry check failed")
    authority.refresh_from_db()
    assert authority.vetting_status == "suspended"
    assert not ApiToken.objects.filter(user__authority=authority, revoked_at__isnull=True).exists()
    assert api.get("/api/v1/requests/").status_code == 401
    # The session is gone: the next page asks to sign in.
    response = web.get(reverse("portal:request_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    owners = {str(s.get_decoded().get("_auth_user_id")) for s in Session.objects.all()}
    assert str(officer.pk) not in owners and str(other_officer.pk) in owners
    # The other authority is untouched.
    assert other_api.get("/api/v1/requests/").status_code == 200
    assert other_web.get(reverse("portal:request_list")).status_code == 200
    event = AuditEvent.objects.get(action="authority.vetting_changed")
    assert event.data["from"] == "verified" and event.data["to"] == "suspended"
    assert event.data["tokens_revoked"] == 1


def test_only_the_legal_team_suspends(authority, authority_admin):
    from accounts.services import authority_suspend

    with pytest.raises(PermissionDenied):
        authority_suspend(actor=authority_admin, authority=authority, reason="x")
    authority.refresh_from_db()
    assert authority.vetting_status == "verified"


def test_deactivated_officer_reaches_nothing(authority, officer, authority_admin):
    from accounts.services import officer_deactivate

    web = signed_in(officer)
    officer_deactivate(actor=authority_admin, officer=officer)
    response = web.get(reverse("portal:request_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    officer.refresh_from_db()
    with pytest.raises(PermissionDenied):
        request_submit(actor=officer, data=validated(), channel="api")
    assert User.objects.get(pk=officer.pk).is_active is False


def test_a_new_officer_of_a_pending_authority_is_not_in_standing(make_authority):
    pending = make_authority(name="Pending body", verified=False)
    user = officer_create(language="en", authority=pending, email="a@police1.example.fr")
    assert user.is_approved_officer is False
