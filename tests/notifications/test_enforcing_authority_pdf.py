"""The enforcing authority's copy of an approved Annex III (Reg. (EU) 2023/1543 Art. 10(5)-(8),
11(4)-(5); Annex III: "send ... to the issuing authority and, where notified, to the enforcing
authority"), and what its e-mail may carry (security.md R6: notifications carry no personal
data). The owner's decision (docs/law.md, "Annex III copy to the enforcing authority"),
``settings.ANNEX_III_EA_EMAIL``: "redacted" (default) attaches the form with every personal
identifier withheld and offers the complete form on request through a secure channel;
"notice_only" attaches nothing; "full" attaches the signed form byte for byte, only for an
agreed encrypted channel. The SHA-256 of what is sent is in the audit event and checked
before sending. The issuing authority's officer downloads the complete form in the portal,
byte-identical whatever the setting. The enforcing authority has no portal account (the data
model links a request to its issuing authority only), so the e-mail gives the request
reference and the provider's contact instead of a portal link it could not use."""

from __future__ import annotations

import hashlib
import smtplib

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured

from audit.models import AuditEvent
from requests_app import annex_iii_pdf
from requests_app.models import AnnexIII, LegalRequest
from requests_app.services import review
from requests_app.states import Status
from tests.conftest import client_for
from tests.four_eyes import approve_annex
from tests.pdf_text import pdf_text

from .conftest import PERSONAL, deliver, personal_body, rows
from .test_enforcing_authority_copy import EA, _waiting

pytestmark = pytest.mark.django_db

CONTACT = "legal-representative@provider.example"
TARGETS = [PERSONAL["username"], PERSONAL["phone"], PERSONAL["ip"]]
# What the legal team may write in the form's free text: identifiers quoted, a person reached.
GROUNDS = (f"Art. 12(1)(a): immunity. The account {PERSONAL['username']} ({PERSONAL['phone']}, "
           f"{PERSONAL['ip']}) belongs to a member of parliament; confirmed by jean.dupont@mail.example, "
           f"+32 2 555 01 23, account id 1234567890123.")


@pytest.fixture(autouse=True)
def _contact(settings):
    settings.PROVIDER_LEGAL_CONTACT_EMAIL = CONTACT


def _approved(officer, team) -> tuple[LegalRequest, int]:
    request = _waiting(officer, enforcing_authority_email=EA, targets=personal_body()["targets"])
    assert sorted(request.targets.values_list("value", flat=True)) == sorted(TARGETS)
    form = review.ea_object(actor=team.reviewer, request=request, grounds=GROUNDS, reasons=[
        {"target": 1, "identifier": PERSONAL["phone"], "reasons": ["other"],
         "explanation": f"The number {PERSONAL['phone']} is that of {PERSONAL['username']}."}])
    approve_annex(team.approver, form)
    return request, form.pk


def _pdf_parts(mail) -> list:
    return [p for p in mail.message.iter_attachments() if p.get_content_type() == "application/pdf"]


def _served(officer, request, form_id) -> bytes:
    with time_machine.travel("2026-12-01 09:00Z"):
        served = client_for(officer).get(f"/api/v1/requests/{request.reference}/annex-iii/{form_id}/pdf/")
    assert served.status_code == 200
    return b"".join(getattr(served, "streaming_content")) if served.streaming else served.content  # noqa: B009


def test_by_default_the_copy_withholds_every_personal_identifier(smtp, officer, team):
    request, form_id = _approved(officer, team)
    event = AuditEvent.objects.get(request_id=request.pk, action="annex_iii.enforcing_authority_copy")
    assert event.data["copy"] == "redacted"
    deliver()
    (mail,) = smtp.to(EA)
    (part,) = _pdf_parts(mail)
    body = part.get_content()
    assert body.startswith(b"%PDF")
    assert hashlib.sha256(body).hexdigest() == event.data["pdf_sha256"]
    assert part.get_filename() == f"annex-iii-{request.reference}-{form_id}-identifiers-withheld.pdf"
    text = pdf_text(body)
    leaked = [v for v in [*TARGETS, *PERSONAL.values(), "jean.dupont@mail.example", "+32 2 555 01 23",
                          "1234567890123", "Rita", team.reviewer.email, team.approver.email, officer.email]
              if v.lower() in text.lower()]
    assert not leaked, leaked
    # What the enforcing authority needs stays: the order, the authority, the reasons and their law.
    for kept in (request.reference, request.authority.name, "other reasons", "Reg. (EU) 2023/1543 Art. 10(2), 12(1)",
                 "Art. 12(1)(a): immunity", "[withheld: target 1]", "[withheld: target 2]",
                 "[withheld: e-mail address]", "[withheld: telephone number]", "[withheld: number]",
                 "[withheld: file number]", CONTACT, "Refusal on grounds", "secure channel"):
        assert kept in text, kept
    for content in (mail.text, mail.html):
        assert "withheld" in content and "secure channel" in content
        assert "This message contains no personal data" in content
        assert not [v for v in [*TARGETS, *PERSONAL.values()] if v in content]


def test_the_officers_portal_copy_stays_complete_and_byte_identical_to_the_signed_form(smtp, officer, team):
    request, form_id = _approved(officer, team)
    form = AnnexIII.objects.get(pk=form_id)
    signed = annex_iii_pdf.render(form)
    event = AuditEvent.objects.get(request_id=request.pk, action="annex_iii.enforcing_authority_copy")
    assert event.data["complete_pdf_sha256"] == hashlib.sha256(signed).hexdigest() != event.data["pdf_sha256"]
    served = _served(officer, request, form_id)
    assert served == signed
    text = pdf_text(served)
    for value in (*TARGETS, PERSONAL["case_reference"], "jean.dupont@mail.example", "Rita"):
        assert value in text, value


@pytest.mark.parametrize(("mode", "attached", "identifiers_sent"), [
    ("redacted", True, False),
    ("notice_only", False, False),
    ("full", True, True),
])
def test_only_full_e_mails_a_target_identifier(smtp, officer, team, settings, mode, attached, identifiers_sent):
    settings.ANNEX_III_EA_EMAIL = mode
    request, form_id = _approved(officer, team)
    event = AuditEvent.objects.get(request_id=request.pk, action="annex_iii.enforcing_authority_copy")
    assert event.data["copy"] == mode and ("pdf_sha256" in event.data) is attached
    deliver()
    (mail,) = smtp.to(EA)
    parts = _pdf_parts(mail)
    assert len(parts) == int(attached)
    sent = " ".join([mail.everything(), *(pdf_text(p.get_content()) for p in parts)])
    found = [t for t in TARGETS if t in sent]
    assert (found == TARGETS) if identifiers_sent else not found, found
    for part in parts:
        assert hashlib.sha256(part.get_content()).hexdigest() == event.data["pdf_sha256"]
    # Whatever goes by e-mail, the issuing authority's download is the complete signed form.
    assert _served(officer, request, form_id) == annex_iii_pdf.render(AnnexIII.objects.get(pk=form_id))


def test_full_sends_the_signed_form_the_officer_downloads_and_says_it_carries_personal_data(
        smtp, officer, team, settings):
    settings.ANNEX_III_EA_EMAIL = "full"
    request, form_id = _approved(officer, team)
    recorded = AuditEvent.objects.get(request_id=request.pk, action="annex_iii.enforcing_authority_copy"
                                      ).data["pdf_sha256"]
    deliver()
    (mail,) = smtp.to(EA)
    (part,) = _pdf_parts(mail)
    assert hashlib.sha256(part.get_content()).hexdigest() == recorded
    assert part.get_filename() == f"annex-iii-{request.reference}-{form_id}.pdf"
    assert hashlib.sha256(_served(officer, request, form_id)).hexdigest() == recorded
    for content in (mail.text, mail.html):
        assert "contains personal data" in content and "encrypted channel" in content
        assert "This message contains no personal data" not in content


def test_notice_only_attaches_nothing_and_offers_the_form_through_a_secure_channel(smtp, officer, team, settings):
    from outbox.models import OutboxAttachment

    settings.ANNEX_III_EA_EMAIL = "notice_only"
    request, _ = _approved(officer, team)
    assert not OutboxAttachment.objects.filter(message__request=request).exists()
    deliver()
    (mail,) = smtp.to(EA)
    assert not list(mail.message.iter_attachments())
    assert "secure channel" in mail.text and "Refusal on grounds" in mail.text and CONTACT in mail.text


def test_an_unknown_setting_is_refused_and_the_approval_changes_nothing(smtp, officer, team, settings):
    request = _waiting(officer, enforcing_authority_email=EA)
    form = review.ea_object(actor=team.reviewer, request=request, grounds="Art. 12(1)(a).")
    settings.ANNEX_III_EA_EMAIL = "everything"
    with pytest.raises(ImproperlyConfigured, match="ANNEX_III_EA_EMAIL must be one of redacted, notice_only, full"):
        approve_annex(team.approver, form)
    form.refresh_from_db()
    request.refresh_from_db()
    assert form.approved_at is None and request.status == Status.AWAITING_ENFORCING_AUTHORITY
    assert not AuditEvent.objects.filter(request_id=request.pk, action="annex_iii.approved").exists()
    assert not rows("notify.annex_iii_enforcing_authority", request)


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


def _clarification(team, request) -> int:
    review.ea_confirm(actor=team.reviewer, request=request)
    form = review.clarification_request(actor=team.reviewer, request=request,
                                        clarification_asked=f"Confirm the account {PERSONAL['username']}.")
    return form.pk


def _refusal(team, request) -> int:
    form = review.ea_object(actor=team.reviewer, request=request, grounds=GROUNDS)
    return approve_annex(team.approver, form).pk


def _non_execution(team, request) -> int:
    review.ea_confirm(actor=team.reviewer, request=request)
    form = review.not_executed(actor=team.reviewer, request=request, reasons=[
        {"target": 0, "identifier": PERSONAL["username"], "reasons": ["other"],
         "explanation": f"{PERSONAL['username']} was deleted."}])
    return approve_annex(team.approver, form).pk


@pytest.mark.parametrize(("kind", "send"), [
    ("clarification", _clarification),  # Art. 10(6): "... and, where notified, the enforcing authority"
    ("refusal", _refusal),
    ("non_execution", _non_execution),
])
def test_every_annex_iii_of_a_notified_order_reaches_the_enforcing_authority_withheld(smtp, officer, team, kind, send):
    request = _waiting(officer, enforcing_authority_email=EA, targets=personal_body()["targets"])
    form_id = send(team, request)
    assert AnnexIII.objects.get(pk=form_id).kind == kind
    event = AuditEvent.objects.get(request_id=request.pk, action="annex_iii.enforcing_authority_copy")
    assert (event.data["annex_iii_id"], event.data["copy"]) == (form_id, "redacted")
    deliver()
    (mail,) = smtp.to(EA)
    (part,) = _pdf_parts(mail)
    assert hashlib.sha256(part.get_content()).hexdigest() == event.data["pdf_sha256"]
    text = pdf_text(part.get_content())
    assert request.reference in text and "[withheld: target 1]" in text
    assert not [t for t in TARGETS if t in text]
