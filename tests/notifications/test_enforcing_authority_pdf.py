"""The enforcing authority's copy of an approved Annex III (Reg. (EU) 2023/1543 Art. 10(5)-(8),
11(4)-(5); Annex III: "send ... to the issuing authority and, where notified, to the enforcing
authority") carries the form itself: the PDF the issuing authority downloads in the portal,
byte for byte, its SHA-256 in the audit event. The enforcing authority has no portal account,
so the e-mail gives the request reference and the provider's contact instead of a portal link
it could not use. An Annex III is a notification, not produced data: produced data never leave
the portal (DESIGN.md §1, security.md R6)."""

from __future__ import annotations

import hashlib
import smtplib

import pytest
import time_machine

from audit.models import AuditEvent
from requests_app.models import LegalRequest
from requests_app.services import review
from tests.conftest import client_for
from tests.four_eyes import approve_annex

from .conftest import deliver, rows
from .test_enforcing_authority_copy import EA, _waiting

pytestmark = pytest.mark.django_db

CONTACT = "legal-representative@provider.example"


@pytest.fixture(autouse=True)
def _contact(settings):
    settings.PROVIDER_LEGAL_CONTACT_EMAIL = CONTACT


def _approved(officer, team) -> tuple[LegalRequest, int]:
    request = _waiting(officer, enforcing_authority_email=EA)
    form = review.ea_object(actor=team.reviewer, request=request, grounds="Art. 12(1)(a): immunity.")
    approve_annex(team.approver, form)
    return request, form.pk


def _pdf_parts(mail) -> list:
    return [p for p in mail.message.iter_attachments() if p.get_content_type() == "application/pdf"]


def test_the_copy_carries_the_signed_annex_iii_pdf_the_officer_downloads(smtp, officer, team):
    request, form_id = _approved(officer, team)
    event = AuditEvent.objects.get(request_id=request.pk, action="annex_iii.enforcing_authority_copy")
    recorded = event.data["pdf_sha256"]
    deliver()
    (mail,) = smtp.to(EA)
    (part,) = _pdf_parts(mail)
    body = part.get_content()
    assert body.startswith(b"%PDF")
    assert hashlib.sha256(body).hexdigest() == recorded
    assert part.get_filename() == f"annex-iii-{request.reference}-{form_id}.pdf"
    # The same document the issuing authority's officer downloads in the portal, later.
    with time_machine.travel("2026-12-01 09:00Z"):
        served = client_for(officer).get(f"/api/v1/requests/{request.reference}/annex-iii/{form_id}/pdf/")
    assert served.status_code == 200
    assert (
        hashlib.sha256(b"".join(served.streaming_content) if served.streaming else served.content).hexdigest()
        == recorded
    )


def test_the_copy_names_the_request_and_the_provider_contact_not_a_portal_link(smtp, officer, team):
    request, _ = _approved(officer, team)
    deliver()
    (mail,) = smtp.to(EA)
    for content in (mail.text, mail.html):
        assert request.reference in content
        assert CONTACT in content
        assert "no account" in content
        assert "portal.provider.example" not in content, "no link the enforcing authority cannot use"
        assert "Sign in" not in content
    assert "attached" in mail.text and "notification" in mail.text
    assert "never sent by e-mail" in mail.text  # produced data stay in the portal


def test_the_attachment_is_stored_with_the_outbox_row_and_survives_a_failed_try(smtp, officer, team):
    from outbox.models import OutboxAttachment

    request, _ = _approved(officer, team)
    (stored,) = OutboxAttachment.objects.filter(
        message__topic="notify.annex_iii_enforcing_authority", message__request=request
    )
    assert stored.sha256 == hashlib.sha256(bytes(stored.content)).hexdigest()
    smtp.refuse(EA)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        deliver()
    smtp.refuse()
    deliver()
    (mail,) = smtp.to(EA)
    (part,) = _pdf_parts(mail)
    assert hashlib.sha256(part.get_content()).hexdigest() == stored.sha256
    (row,) = rows("notify.annex_iii_enforcing_authority", request)
    assert (row.status, row.attempts) == ("sent", 2)


def test_a_tampered_attachment_is_not_sent(smtp, officer, team):
    from outbox.models import OutboxAttachment

    request, _ = _approved(officer, team)
    OutboxAttachment.objects.filter(message__request=request).update(content=b"%PDF-forged")
    with pytest.raises(Exception, match="SHA-256"):
        deliver()
    assert not smtp.to(EA)


def test_other_e_mails_of_the_approval_carry_no_attachment(smtp, officer, team):
    _approved(officer, team)
    deliver()
    others = [m for m in smtp.messages if EA not in m.rcpt_tos]
    assert others
    assert not [m for m in others if list(m.message.iter_attachments())]


def test_the_copy_dates_the_form_in_the_enforcing_state_zone(smtp, officer, team):
    """The enforcing authority is in the State of the provider's establishment (Art. 3, "enforcing State"):
    its dates read in the provider's zone, named, UTC beside."""
    from zoneinfo import ZoneInfo

    request, form_id = _approved(officer, team)
    deliver()
    (mail,) = smtp.to(EA)
    sent = request.annex_iii.get(pk=form_id).approved_at
    local = sent.astimezone(ZoneInfo("Europe/Brussels"))
    assert f"{local:%Y-%m-%d %H:%M} {local.tzname()} (Europe/Brussels) · {sent:%Y-%m-%d %H:%M} UTC" in mail.text
