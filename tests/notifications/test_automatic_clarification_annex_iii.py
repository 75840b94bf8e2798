"""The automatic clarification asks with Annex III (Reg. (EU) 2023/1543 Art. 10(6)), and the
enforcing authority notified under Art. 8 gets its copy like every Annex III (docs/law.md,
"Annex III copy to the enforcing authority").

When the validation task moves an order into clarification from the engine's findings, it
writes the form: the reasons ticked from the clarification findings per target and data
category, what is asked (section F), whether the order as received lets the data be
identified and preserved (section G), attributed to the automatic validation and signed by
nobody (section H). The officer sees and downloads it in the portal; the enforcing authority
of a notified order receives one e-mail with the copy whose identifiers are withheld, recorded
by one audit event with its SHA-256; a second delivery of the task writes nothing more."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from requests_app import annex_iii_pdf, tasks
from requests_app.models import AnnexIII, AnnexIIIOrigin, LegalRequest
from requests_app.states import Status
from tests.conftest import client_for
from tests.pdf_text import pdf_text
from tests.web.conftest import reauthenticated

from .conftest import PERSONAL, deliver, personal_body, rows
from .test_enforcing_authority_copy import EA, VALIDATION

pytestmark = pytest.mark.django_db

CONTACT = "legal-representative@provider.example"
# The order's third target, an IP address without its time stamp: cannot be identified (Art. 3(10), 5(5)(c)).
IP_WITHOUT_TIME = {"kind": "ip_address", "value": PERSONAL["ip"]}


@pytest.fixture(autouse=True)
def _contact(settings):
    settings.PROVIDER_LEGAL_CONTACT_EMAIL = CONTACT


def _clarified(officer, **overrides) -> LegalRequest:
    body = personal_body(**{"data_categories": ["traffic"], "validation": VALIDATION, **overrides})
    body["targets"] = [IP_WITHOUT_TIME]
    created = client_for(officer).post("/api/v1/requests/", body, format="json")
    assert created.status_code == 201, created.content
    request = LegalRequest.objects.get(reference=created.json()["reference"])
    tasks.validate_request.apply(args=(request.pk,)).get()
    request.refresh_from_db()
    assert request.status == Status.CLARIFICATION_REQUESTED, (request.decision or {}).get("findings")
    return request


def _served(client, path) -> bytes:
    served = client.get(path)
    assert served.status_code == 200, path
    return b"".join(getattr(served, "streaming_content")) if served.streaming else served.content  # noqa: B009


def test_the_automatic_clarification_of_a_notified_order_is_an_annex_iii_the_enforcing_authority_receives(
        smtp, officer):
    request = _clarified(officer, enforcing_authority_notified=True, enforcing_authority_email=EA)

    (form,) = AnnexIII.objects.filter(request=request)
    assert (form.kind, form.origin, form.signed_by, form.signed_at, form.created_by) == (
        "clarification", AnnexIIIOrigin.AUTOMATIC_VALIDATION, None, None, None)
    assert form.sent_at is not None and form.data_preserved is False
    (item,) = form.reasons
    assert (item["target"], item["identifier"]) == (0, f"ip_address: {PERSONAL['ip']}")
    assert item["reasons"] and set(item["reasons"]) <= {"incomplete", "insufficient_information", "manifest_errors"}
    assert "target 1 (ip_address)" in form.clarification_asked
    assert {(r["target"], r["data_category"], r["possible"]) for r in form.identification} == {
        (0, None, False), (None, "traffic", True)}

    # The officer sees it on the request's page and the clarification page, and downloads the complete form.
    web = Client()
    web.force_login(officer)
    pdf_path = reverse("portal:annex_iii_download", args=[request.reference, form.pk])
    assert pdf_path in web.get(reverse("portal:request_detail", args=[request.reference])).content.decode()
    asking = web.get(reverse("portal:clarification", args=[request.reference])).content.decode()
    assert pdf_path in asking and "drafted automatically" in asking and "What the legal team asks" not in asking
    api = client_for(officer).get(f"/api/v1/requests/{request.reference}/").json()
    assert [f["id"] for f in api["annex_iii"]] == [form.pk]
    complete = _served(reauthenticated(web, officer), pdf_path)
    assert _served(client_for(officer), api["annex_iii"][0]["pdf_url"]) == complete
    assert complete == annex_iii_pdf.render(form)
    text = pdf_text(complete)
    for kept in ("Request for clarification", PERSONAL["ip"], "not signed by a person", "automatic validation",
                 "Identification and preservation not possible", "Identification and preservation possible",
                 CONTACT):
        assert kept in text, kept
    assert "Decided and signed by a person" not in text

    # One audit event of the copy, with the SHA-256 of the withheld PDF the enforcing authority receives.
    (event,) = AuditEvent.objects.filter(request_id=request.pk, action="annex_iii.enforcing_authority_copy")
    assert (event.actor_id, event.data["annex_iii_id"], event.data["copy"], event.data["queued"]) == (
        None, form.pk, "redacted", True)
    assert event.data["complete_pdf_sha256"] == hashlib.sha256(complete).hexdigest()
    assert AuditEvent.objects.filter(request_id=request.pk, action="annex_iii.sent_automatically").count() == 1
    deliver()
    (mail,) = smtp.to(EA)
    (part,) = [p for p in mail.message.iter_attachments() if p.get_content_type() == "application/pdf"]
    withheld = part.get_content()
    assert hashlib.sha256(withheld).hexdigest() == event.data["pdf_sha256"]
    copy = pdf_text(withheld)
    assert "[withheld: target 1]" in copy and "Request for clarification" in copy
    leaked = [v for v in PERSONAL.values() if v.lower() in copy.lower() or v in mail.everything()]
    assert not leaked, leaked
    assert "Request for clarification" in mail.text
    # Nobody signed it and no second member approved it: the e-mail says neither, and dates it
    # by when it was sent (it showed no date: the "Sent on" row read approved_at).
    assert "signed form" not in mail.text
    assert "Sent on" in mail.text
    (row,) = rows("notify.annex_iii_enforcing_authority", request)
    assert (row.recipient, row.status) == (EA, "sent")


def test_not_notified_no_copy_goes_to_an_enforcing_authority(smtp, officer):
    request = _clarified(officer, data_categories=["subscriber"], validation=personal_body()["validation"])
    (form,) = AnnexIII.objects.filter(request=request)
    assert form.origin == AnnexIIIOrigin.AUTOMATIC_VALIDATION
    deliver()
    assert not rows("notify.annex_iii_enforcing_authority", request)
    assert not AuditEvent.objects.filter(request_id=request.pk, action="annex_iii.enforcing_authority_copy").exists()
    assert [m.rcpt_tos for m in smtp.messages] == [[officer.email]]


def test_a_task_delivered_twice_writes_one_form_and_sends_one_copy(smtp, officer):
    request = _clarified(officer, enforcing_authority_notified=True, enforcing_authority_email=EA)
    tasks.validate_request.apply(args=(request.pk,)).get()  # the same task, delivered again
    deliver()
    tasks.validate_request.apply(args=(request.pk,)).get()
    deliver()
    assert AnnexIII.objects.filter(request=request).count() == 1
    assert AuditEvent.objects.filter(request_id=request.pk, action="annex_iii.enforcing_authority_copy").count() == 1
    assert len(smtp.to(EA)) == 1

