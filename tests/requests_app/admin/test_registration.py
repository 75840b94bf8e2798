"""The legal team registers an order received outside the portal (issue 12 item 2).

Bad inputs (a future receipt time, a rejected PDF, no authority) store nothing; an old receipt
time flags the request late; who registered it and when is audited; an authority without
officers gets an invitation e-mail with no case data (through the real SMTP sink).
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Authority, VettingStatus
from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.models import Attachment, LegalRequest
from requests_app.services.validation import request_validate
from tests.notifications.conftest import deliver, smtp  # noqa: F401  (the SMTP sink fixture)
from tests.requests_app.api.helpers import pdf_bytes, upload
from tests.web.forms import form_data

from .conftest import CHANGELIST, change_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_instant")]  # dates named in the expectations
REGISTER = f"{CHANGELIST}register/"
CHECK = f"{REGISTER}check/"
BRUSSELS = ZoneInfo("Europe/Brussels")


def local(moment) -> str:
    return moment.astimezone(BRUSSELS).strftime("%Y-%m-%dT%H:%M:%S")


def registration(authority=None, *, received=None, order=True, **overrides):
    received = received if received is not None else timezone.now() - timedelta(hours=2)
    data = form_data(**{"channel": "post", "received_at": local(received), "received_timezone": "Europe/Brussels",
                        "case_reference": "PN-2026-POST-1", **overrides})
    if authority is not None:
        data["authority"] = str(authority.pk)
    if order:
        data["order_file"] = upload(pdf_bytes())
    return data


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (LegalRequest, Attachment, OutboxMessage, Authority)} | {
        "events": AuditEvent.objects.exclude(action__in=["request.viewed"]).count()}


def test_the_page_offers_the_registry_the_channels_and_the_portal_form(as_reviewer, authority):
    body = as_reviewer.get(REGISTER).content.decode()
    assert authority.name in body
    for channel in ("email", "post", "fax", "decentralised_it", "other"):
        assert f'value="{channel}"' in body
    assert 'id="section-targets"' in body and 'name="order_file"' in body and 'id="check-results"' in body


def test_an_authority_officer_cannot_reach_the_page(officer):
    from .conftest import login

    response = login(officer).get(REGISTER)
    assert response.status_code in (302, 403)
    assert not LegalRequest.objects.exists()


def test_registered_by_post_yesterday_runs_its_deadline_from_yesterday_and_is_audited(as_reviewer, reviewer,
                                                                                      authority, officer):
    received = (timezone.now() - timedelta(days=1, hours=2)).replace(microsecond=0)  # yesterday, 06:00 UTC
    response = as_reviewer.post(REGISTER, registration(authority, received=received))

    assert response.status_code == 302, response.content.decode()[:3000]
    request = LegalRequest.objects.get()
    assert response["Location"] == change_url(request)
    assert (request.channel, request.received_at, request.authority, request.submitted_by) == (
        "post", received, authority, reviewer)
    assert request.late_registration  # 26 h > the default margin of 24 h
    assert request.attachments.get().kind == "order"
    event = AuditEvent.objects.get(action="request.registered")
    assert (event.actor_id, event.request_id) == (reviewer.pk, request.pk)
    assert event.data["channel"] == "post" and event.data["received_at"].startswith(received.isoformat()[:19])
    assert event.data["registered_at"].startswith(timezone.now().isoformat()[:19])
    assert AuditEvent.objects.filter(action="request.submitted", request_id=request.pk).exists()
    # The authority has an officer: no invitation.
    assert not OutboxMessage.objects.filter(topic="notify.registration_invite").exists()

    request_validate(request_id=request.pk)
    request.refresh_from_db()
    # EPOC: 10 days from receipt (Art. 10(2)), rolled to the next working day by Reg. 1182/71 if needed.
    # EPOC: 10 days from the receipt (Art. 10(2)), i.e. from yesterday 06:00, not from the registration.
    assert request.due_at == received + timedelta(days=10)
    assert request.due_at != timezone.now() + timedelta(days=10)
    page = as_reviewer.get(change_url(request)).content.decode()
    assert 'id="late-registration"' in page


def test_a_future_receipt_time_is_refused_and_nothing_is_stored(as_reviewer, authority, officer):
    before = counts()
    response = as_reviewer.post(REGISTER, registration(authority, received=timezone.now() + timedelta(hours=1)))
    assert response.status_code == 400
    assert "The receipt time cannot be in the future." in response.content.decode()
    assert counts() == before


def test_the_late_flag_follows_the_margin_setting_and_shows_in_the_queue(as_reviewer, authority, officer, settings):
    settings.REGISTRATION_LATE_MARGIN = timedelta(hours=6)
    as_reviewer.post(REGISTER, registration(authority, received=timezone.now() - timedelta(hours=5),
                                            case_reference="ON-TIME"))
    as_reviewer.post(REGISTER, registration(authority, received=timezone.now() - timedelta(hours=7),
                                            case_reference="LATE"))
    on_time, late = (LegalRequest.objects.get(case_reference=c) for c in ("ON-TIME", "LATE"))
    assert (on_time.late_registration, late.late_registration) == (False, True)
    assert AuditEvent.objects.get(action="request.registered", request_id=late.pk).data["late"] is True
    queue = as_reviewer.get(CHANGELIST).content.decode()
    assert queue.count("lrp-badge-late") == 1
    assert 'id="late-registration"' not in as_reviewer.get(change_url(on_time)).content.decode()


def test_a_rejected_pdf_stores_nothing(as_reviewer, authority, officer):
    before = counts()
    data = registration(authority, order=False)
    data["order_file"] = upload(pdf_bytes(javascript=True, encrypted=True))
    response = as_reviewer.post(REGISTER, data)
    assert response.status_code == 400
    assert counts() == before
    data = registration(authority, order=False)
    data["order_file"] = upload(b"not a pdf at all", name="order.pdf")
    assert as_reviewer.post(REGISTER, data).status_code == 400
    assert counts() == before


def test_the_original_order_is_required(as_reviewer, authority, officer):
    before = counts()
    response = as_reviewer.post(REGISTER, registration(authority, order=False))
    assert response.status_code == 400 and "Upload the original order" in response.content.decode()
    assert counts() == before


def test_no_authority_or_both_is_refused(as_reviewer, authority):
    before = counts()
    assert as_reviewer.post(REGISTER, registration(None)).status_code == 400
    both = registration(authority, new_authority_name="Another")
    assert as_reviewer.post(REGISTER, both).status_code == 400
    assert counts() == before


def new_authority_fields(**overrides):
    fields = {"new_authority_name": "Gendarmerie de Lyon", "new_authority_country": "fr",
              "new_authority_type": "other_competent", "new_authority_domains": "gendarmerie-lyon.example.fr",
              "new_authority_phone": "+33400000000", "contact_email": "accueil@gendarmerie-lyon.example.fr"}
    fields.update(overrides)
    return fields


def test_a_new_authority_is_registered_pending_and_its_contact_invited_without_case_data(as_reviewer, reviewer,
                                                                                         smtp):  # noqa: F811
    response = as_reviewer.post(REGISTER, registration(None, **new_authority_fields(),
                                                       summary="Secret operation Nightjar"))
    assert response.status_code == 302, response.content.decode()[:3000]
    request = LegalRequest.objects.get()
    authority = request.authority
    assert (authority.name, authority.country, authority.vetting_status) == (
        "Gendarmerie de Lyon", "FR", VettingStatus.PENDING)
    assert AuditEvent.objects.filter(action="authority.created", object_id=str(authority.pk),
                                     actor_id=reviewer.pk).exists()
    queue = as_reviewer.get(CHANGELIST).content.decode()
    assert 'class="lrp-badge lrp-badge-unvetted"' in queue
    invited = AuditEvent.objects.get(action="authority.invited")
    assert invited.data["address"] == "accueil@gendarmerie-lyon.example.fr"

    assert deliver() == 1
    (mail,) = smtp.to("accueil@gendarmerie-lyon.example.fr")
    content = mail.everything() + mail.headers
    assert "/register-authority/" in content
    for case_data in (request.reference, "PN-2026-POST-1", "suspect_account", "203.0.113.7", "Nightjar", "Fraud",
                      "Parquet"):
        assert case_data not in content


def test_an_authority_without_officers_needs_a_contact_on_its_domains(as_reviewer, make_authority):
    lonely = make_authority(name="Parquet de Lille", domains=["justice-lille.example.fr"])
    before = counts()
    response = as_reviewer.post(REGISTER, registration(lonely))
    assert response.status_code == 400 and "contact e-mail" in response.content.decode()
    response = as_reviewer.post(REGISTER, registration(lonely, contact_email="someone@gmail.example"))
    assert response.status_code == 400 and "registered e-mail domains" in response.content.decode()
    assert counts() == before
    response = as_reviewer.post(REGISTER, registration(lonely, contact_email="greffe@justice-lille.example.fr"))
    assert response.status_code == 302
    assert OutboxMessage.objects.filter(topic="notify.registration_invite",
                                        payload__address="greffe@justice-lille.example.fr").count() == 1


def test_the_registered_request_is_seen_by_the_authority_officer_in_the_portal(as_reviewer, authority, officer):
    from .conftest import login

    as_reviewer.post(REGISTER, registration(authority))
    request = LegalRequest.objects.get()
    page = login(officer).get("/requests/")
    assert request.reference in page.content.decode()


def test_the_live_check_uses_the_chosen_authority_and_shows_findings(as_reviewer, authority):
    data = registration(authority, order=False, data_categories=["content"], max_sentence_months="12",
                        via_information_system=None, validation_authority_type="judge", action="check",
                        received=timezone.now() - timedelta(days=3))
    response = as_reviewer.post(CHECK, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Reg. (EU) 2023/1543 Art." in body
    slot = re.search(r'id="findings-offence_description" hx-swap-oob="true">(.*?)</div>', body, re.S)
    assert slot and "finding-" in slot.group(1)
    assert "12 Sep 2026" in body  # the deadline counted from the stated receipt, three days ago
    assert not LegalRequest.objects.exists()


def test_a_suspended_authority_is_registered_but_not_invited(as_reviewer, make_authority, reviewer):
    from accounts.services import authority_suspend

    suspended = make_authority(name="Police municipale", domains=["pm.example.fr"])
    authority_suspend(actor=reviewer, authority=suspended, reason="Compromised mailbox")
    response = as_reviewer.post(REGISTER, registration(suspended))
    assert response.status_code == 302
    assert not OutboxMessage.objects.filter(topic="notify.registration_invite").exists()
    assert AuditEvent.objects.get(action="request.registered").data["invited"] is False


def test_the_same_page_submitted_twice_registers_once(as_reviewer, authority, officer):
    data = registration(authority, submission_key="a" * 32)
    assert as_reviewer.post(REGISTER, data).status_code == 302
    again = registration(authority, submission_key="a" * 32)
    assert as_reviewer.post(REGISTER, again).status_code == 302
    assert LegalRequest.objects.count() == 1 and Attachment.objects.count() == 1
    assert AuditEvent.objects.filter(action="request.registered").count() == 1


def test_delegates_and_a_duplicate_new_authority_are_refused_with_nothing_stored(as_reviewer, authority, officer,
                                                                                reviewer2):
    before = counts()
    response = as_reviewer.post(REGISTER, registration(authority, delegates=reviewer2.email))
    assert response.status_code == 400 and "named by the authority" in response.content.decode()
    response = as_reviewer.post(REGISTER, registration(None, **new_authority_fields(new_authority_name=authority.name)))
    assert response.status_code == 400 and "already in the registry" in response.content.decode()
    assert counts() == before
