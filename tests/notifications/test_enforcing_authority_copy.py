"""Where the enforcing authority was notified (Reg. (EU) 2023/1543 Art. 8), it receives the
Annex III too (Art. 10(5)-(6), 11(4)-(5)): its e-mail address is part of the request, and the
approved form goes there as an e-mail notice through the outbox, by a real SMTP exchange,
recorded (audit event and delivery row) and shown in the admin."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from requests_app.models import LegalRequest
from requests_app.services import review
from requests_app.services.validation import request_validate
from requests_app.states import Status
from tests.conftest import client_for, epoc_body
from tests.four_eyes import approve_annex

from .conftest import PERSONAL, deliver, rows

pytestmark = pytest.mark.django_db

EA = "epoc.notifications@parquet.example.be"
VALIDATION = {"authority_type": "investigating_judge", "authority_name": "Juge d'instruction de Paris",
              "reference": PERSONAL["validation_reference"], "date": "2026-08-20"}


def _waiting(officer, **overrides) -> LegalRequest:
    body = epoc_body(data_categories=["traffic"], enforcing_authority_notified=True, validation=VALIDATION,
                     case_reference=PERSONAL["case_reference"], **overrides)
    created = client_for(officer).post("/api/v1/requests/", body, format="json")
    assert created.status_code == 201, created.content
    request = LegalRequest.objects.get(reference=created.json()["reference"])
    request_validate(request_id=request.pk)
    request.refresh_from_db()
    assert request.status == Status.AWAITING_ENFORCING_AUTHORITY, (request.decision or {}).get("findings")
    return request


def test_the_enforcing_authority_gets_the_annex_iii_by_e_mail(smtp, officer, team):
    request = _waiting(officer, enforcing_authority_email=EA)
    assert request.enforcing_authority_email == EA
    assert client_for(officer).get(f"/api/v1/requests/{request.reference}/").json()[
        "enforcing_authority_email"] == EA
    form = review.ea_object(actor=team.reviewer, request=request, grounds=PERSONAL["reason"])
    deliver()
    assert not smtp.to(EA), "nothing goes out before the second person approves"

    approve_annex(team.approver, form)
    deliver()
    (mail,) = smtp.to(EA)
    assert request.reference in mail.subject
    assert "Annex III" in mail.subject
    assert "Refusal on grounds" in mail.text
    assert "Reg. (EU) 2023/1543 Art. 10(2), 12(1)" in mail.text
    assert request.authority.name in mail.text
    content = mail.everything()
    assert not [v for v in PERSONAL.values() if v in content], "no case data, identifiers or free text"
    (row,) = rows("notify.annex_iii_enforcing_authority", request)
    assert (row.recipient, row.status) == (EA, "sent")
    event = AuditEvent.objects.get(request_id=request.pk, action="annex_iii.enforcing_authority_copy")
    assert (event.actor_id, event.data["address"], event.data["annex_iii_id"], event.data["queued"]) == (
        team.approver.pk, EA, form.pk, True)

    # The admin shows the address and the delivery.
    admin = Client()
    admin.force_login(team.approver, backend="django.contrib.auth.backends.ModelBackend")
    page = admin.get(f"/admin/requests_app/legalrequest/{request.pk}/change/").content.decode()
    assert EA in page and "notify.annex_iii_enforcing_authority" in page


def test_without_an_address_the_missing_copy_is_recorded(smtp, officer, team):
    request = _waiting(officer)
    form = review.ea_object(actor=team.reviewer, request=request, grounds="Art. 12(1)(a).")
    approve_annex(team.approver, form)
    deliver()
    assert not rows("notify.annex_iii_enforcing_authority", request)
    event = AuditEvent.objects.get(request_id=request.pk, action="annex_iii.enforcing_authority_copy")
    assert event.data["queued"] is False and "no e-mail address" in event.data["reason"]


def test_a_request_without_notification_sends_no_copy(smtp, officer, team, submit):
    request = submit()
    assert request.status == Status.IN_REVIEW and not request.enforcing_authority_notified
    form = review.request_refuse(actor=team.reviewer, request=request, reason="Abusive.")
    approve_annex(team.approver, form)
    deliver()
    assert not rows("notify.annex_iii_enforcing_authority", request)
    assert not AuditEvent.objects.filter(request_id=request.pk, action="annex_iii.enforcing_authority_copy").exists()


def test_a_bad_address_is_refused_at_intake(officer):
    body = epoc_body(data_categories=["traffic"], enforcing_authority_notified=True, validation=VALIDATION,
                     enforcing_authority_email="not an address")
    response = client_for(officer).post("/api/v1/requests/", body, format="json")
    assert response.status_code == 400
    assert "enforcing_authority_email" in response.content.decode()
    assert not LegalRequest.objects.exists()


def test_the_legal_team_records_the_address_from_the_admin_and_the_copy_goes_there(smtp, officer, team):
    from tests.requests_app.admin.conftest import act_url
    from tests.requests_app.admin.test_actions import done, post

    request = _waiting(officer)
    admin = Client()
    admin.force_login(team.reviewer, backend="django.contrib.auth.backends.ModelBackend")
    refused = admin.post(act_url(request, "ea_contact"), {"email": "not an address"})
    assert refused.status_code == 200  # the form again, with its error; nothing stored
    request.refresh_from_db()
    assert request.enforcing_authority_email == ""
    done(post(admin, request, "ea_contact", {"email": EA})[0], request)
    request.refresh_from_db()
    assert request.enforcing_authority_email == EA
    event = AuditEvent.objects.get(request_id=request.pk, action="request.enforcing_authority_contact")
    assert (event.actor_id, event.data) == (team.reviewer.pk, {"from": "", "to": EA})

    form = review.ea_object(actor=team.reviewer, request=request, grounds="Art. 12(1)(a).")
    approve_annex(team.approver, form)
    deliver()
    assert len(smtp.to(EA)) == 1


def test_no_address_without_a_notification(officer, team, submit):
    from requests_app.services.errors import InvalidState

    request = submit()
    with pytest.raises(InvalidState):
        review.enforcing_authority_contact(actor=team.reviewer, request=request, email=EA)
    request.refresh_from_db()
    assert request.enforcing_authority_email == ""
