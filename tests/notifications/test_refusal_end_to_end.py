"""A refusal end to end: the engine proposes → a person of the legal team decides and signs in
the admin → the Annex III record, its PDF and the e-mail notice (real SMTP on loopback) → the
officer sees the decision on the web page and in the API. Nothing final happens before the
person signs."""

from __future__ import annotations

import io
import re

import pikepdf
import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.models import AnnexIII
from requests_app.services.validation import request_validate
from requests_app.states import Status
from tests.conftest import client_for, epoc_body

from .conftest import APPROVER, REVIEWER, deliver, staff

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"
TARGETS = [{"kind": "username", "value": "suspect_account"}, {"kind": "username", "value": "second_account"}]


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


def checked(html: str, name: str, value: str) -> bool:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*value="{value}"[^>]*>', html)
    return bool(tag and "checked" in tag.group(0))


def test_refusal_from_proposal_to_the_officer(smtp, officer):
    reviewer = staff("decider@provider.example", REVIEWER, first_name="Ana", last_name="Decider")
    approver = staff("second@provider.example", APPROVER, first_name="Ben", last_name="Second")
    api = client_for(officer)

    # 1. The officer submits; the engine finds that a prosecutor cannot validate an EPOC for
    #    traffic data (Reg. (EU) 2023/1543 Art. 4(2)) and only PROPOSES the non-execution.
    created = api.post("/api/v1/requests/", epoc_body(data_categories=["traffic"], targets=TARGETS), format="json")
    assert created.status_code == 201, created.content
    reference = created.json()["reference"]
    from requests_app.models import LegalRequest

    request = LegalRequest.objects.get(reference=reference)
    request_validate(request_id=request.pk)
    request.refresh_from_db()
    assert (request.status, request.decision["route"]) == (Status.IN_REVIEW, "not_executable")
    proposal = request.decision["proposal"]
    assert proposal["recommendation"] == "not_executed"
    traffic = next(i for i in proposal["items"] if i["key"] == "traffic")
    assert "not_issued_per_art_4" in traffic["reasons"] and "Art. 4" in traffic["explanation"]
    assert not OutboxMessage.objects.filter(request=request, topic="notify.decision").exists()
    detail = api.get(f"/api/v1/requests/{reference}/").json()
    assert detail["status"] == "in_review" and detail["decision"]["person_decision"] is None
    officer_page = client_for_web(officer).get(reverse("portal:request_detail", args=[reference])).content.decode()
    assert 'id="outcome-pending"' in officer_page
    deliver()
    smtp.clear()

    # 2. The person sees the findings and the draft in the admin, reasons ticked per category.
    admin = admin_client(reviewer)
    url = reverse("admin:requests_app_legalrequest_act", args=[request.pk, "not_executed"])
    page = admin.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="engine-findings"' in html and 'id="engine-recommendation">not_executed<' in html
    assert any(f["code"] in html for f in request.decision["findings"] if f["severity"] == "error")
    assert checked(html, "traffic_reasons", "not_issued_per_art_4")
    assert not checked(html, "target_1_reasons", "data_not_stored")

    # 3. ... edits it (free text per category, an extra reason for one target) and signs.
    form = {
        "traffic_reasons": ["not_issued_per_art_4"],
        "traffic_explanation": "Traffic data need a judge's validation (Art. 4(2)(b)).",
        "target_1_reasons": ["data_not_stored"],
        "target_1_explanation": "This account never existed on the service.",
        "data_preserved": "on",
        "conflicting_obligations": "",
    }
    unsigned = admin.post(url, form)
    assert unsigned.status_code == 200 and not AnnexIII.objects.filter(request=request).exists()
    done = admin.post(url, {**form, "sign": "on"})
    assert done.status_code == 302, done.content.decode()[-2000:]

    # 4. Signed by one person, it waits for a second (four eyes): nothing reaches the officer yet.
    request.refresh_from_db()
    annex = AnnexIII.objects.get(request=request)
    assert request.status == Status.IN_REVIEW and annex.sent_at is None
    assert api.get(f"/api/v1/requests/{reference}/").json()["annex_iii"] == []
    deliver()
    assert smtp.to(officer.email) == [] and len(smtp.to(approver.email)) == 1
    smtp.clear()
    second = admin_client(approver)
    approve_url = reverse("admin:requests_app_legalrequest_act", args=[request.pk, "approve_annex_iii"])
    approve_page = second.get(approve_url).content.decode()
    assert f"Annex III #{annex.pk}" in approve_page and "decider@provider.example" in approve_page
    hidden = dict(re.findall(r'<input type="hidden" name="(annex_iii_id|digest)" value="([^"]*)"', approve_page))
    assert second.post(approve_url, hidden).status_code == 302

    # 5. The structured record, signed by the first person, approved by the second, who moves it.
    request.refresh_from_db()
    assert request.status == Status.NOT_EXECUTED
    annex.refresh_from_db()
    assert annex.approved_by == approver and annex.sent_at is not None
    assert (annex.kind, annex.signed_by, annex.created_by) == ("non_execution", reviewer, reviewer)
    assert annex.signed_at is not None and annex.engine_proposal["recommendation"] == "not_executed"
    assert [(i["data_category"], i.get("target"), i["reasons"]) for i in annex.reasons] == [
        ("traffic", None, ["not_issued_per_art_4"]), (None, 1, ["data_not_stored"])]
    move = AuditEvent.objects.filter(request_id=request.pk, action="request.status_changed").last()
    assert (move.data["from"], move.data["to"], move.actor_id) == ("in_review", "not_executed", approver.pk)
    assert move.data["signed_by"] == reviewer.pk

    # 6. The e-mail notice to the officer: the Annex III reasons, no identifiers.
    deliver()
    (mail,) = smtp.to(officer.email)
    assert reference in mail.everything()
    assert "the order was not issued or validated by an authority as specified in Art. 4" in mail.text
    assert "suspect_account" not in mail.everything() and "second_account" not in mail.everything()

    # 7. The officer's web page: the decision and the Annex III PDF, no due date.
    web = client_for_web(officer)
    body = web.get(reverse("portal:request_detail", args=[reference])).content.decode()
    assert "Not executed" in body and 'id="annex-iii"' in body
    assert 'id="request-due"' not in body and 'id="outcome-pending"' not in body
    from tests.web.conftest import reauthenticated

    pdf = reauthenticated(web, officer).get(reverse("portal:annex_iii_download", args=[reference, annex.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    with pikepdf.open(io.BytesIO(pdf.content)) as document:
        assert reference in str(document.docinfo["/Title"])

    # 8. ... and the API: the person's decision per category and per target, the record, the PDF.
    detail = api.get(f"/api/v1/requests/{reference}/").json()
    assert detail["status"] == "not_executed"
    decided = detail["decision"]["person_decision"]
    assert decided["outcome"] == "not_executed" and decided["annex_iii_id"] == annex.pk
    assert decided["categories"] == [{"data_category": "traffic", "allowed": False,
                                      "reason_code": "not_issued_per_art_4",
                                      "legal_basis": "Reg. (EU) 2023/1543 Annex III; "
                                                     + "; ".join(traffic["legal_basis"])}]
    (second,) = decided["targets"]
    assert second["index"] == 1 and second["categories"][0]["reason_code"] == "data_not_stored"
    (record,) = detail["annex_iii"]
    assert record["categories"] == decided["categories"] and record["signed_at"]
    assert api.get(record["pdf_url"]).status_code == 200


def client_for_web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
