"""Annex III (Reg. (EU) 2023/1543): structured reasons per identifier, the PDF the issuing
authority downloads, and internal notes that never leave the legal team."""

from __future__ import annotations

import io
import json

import pikepdf
import pytest

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.models import AnnexIII
from requests_app.services import review
from requests_app.services.errors import ServiceError
from requests_app.states import Status
from tests.four_eyes import approve_annex

from .conftest import actions, last_seq, topics

pytestmark = pytest.mark.django_db

API = "/api/v1/requests/"
SECRET = "INTERNAL-ONLY: the account belongs to a journalist, check press privilege"
REASONS = [
    {"identifier": "targets[0] suspect_account", "reasons": ["data_not_stored"], "explanation": "Deleted in 2024."},
    {"identifier": "targets[2] 203.0.113.7", "reasons": ["insufficient_information", "manifest_errors"]},
]


@pytest.fixture
def in_review(submit):
    request = submit()
    assert request.status == Status.IN_REVIEW
    return request


def test_clarification_records_reasons_per_identifier(in_review, reviewer):
    seq = last_seq()
    form = review.clarification_request(actor=reviewer, request=in_review, clarification_asked="Which period?",
                                        reasons=REASONS)
    in_review.refresh_from_db()
    assert in_review.status == Status.CLARIFICATION_REQUESTED
    assert form.kind == "clarification" and form.created_by == reviewer
    assert form.reasons == [
        {"identifier": "targets[0] suspect_account", "data_category": None, "reasons": ["data_not_stored"],
         "explanation": "Deleted in 2024."},
        {"identifier": "targets[2] 203.0.113.7", "data_category": None,
         "reasons": ["insufficient_information", "manifest_errors"], "explanation": ""},
    ]
    assert actions(in_review, seq) == ["request.status_changed"]
    assert AuditEvent.objects.get(request_id=in_review.pk, seq__gt=seq).data["annex_iii_id"] == form.pk
    message = OutboxMessage.objects.filter(request=in_review).last()
    assert (message.topic, message.payload) == ("notify.clarification_requested", {"annex_iii_id": form.pk})


def test_not_executed_records_reasons_and_closes_after_four_eyes(in_review, reviewer, approver):
    seq = last_seq()
    form = review.not_executed(actor=reviewer, request=in_review, reasons=REASONS, data_preserved=True)
    in_review.refresh_from_db()
    # Signed by one person: a draft, nothing sent, the request still under review.
    assert in_review.status == Status.IN_REVIEW and form.sent_at is None and not form.partial
    assert actions(in_review, seq) == ["annex_iii.drafted"]
    assert topics(in_review)[-1] == "notify.annex_iii_approval_needed"
    approve_annex(approver, form)
    in_review.refresh_from_db()
    form.refresh_from_db()
    assert in_review.status == Status.NOT_EXECUTED and in_review.resolution == "not_executed"
    assert form.kind == "non_execution" and [r["reasons"] for r in form.reasons] == [
        ["data_not_stored"], ["insufficient_information", "manifest_errors"]]
    assert (form.approved_by, form.sent_at) == (approver, form.approved_at) and form.sent_at is not None
    assert actions(in_review, seq) == ["annex_iii.drafted", "annex_iii.approved", "request.status_changed"]
    assert topics(in_review)[-1] == "notify.decision"


@pytest.mark.parametrize("reasons", [
    [{"identifier": "targets[0]", "reasons": ["because_i_say_so"]}],
    [{"identifier": "targets[0]", "reasons": ["incomplete", "made_up"]}],
    [{"identifier": "targets[0]", "reasons": []}],
])
@pytest.mark.parametrize("operation", ["clarification_request", "not_executed"])
def test_unknown_or_missing_reason_codes_are_refused(in_review, reviewer, reasons, operation):
    seq, outbox = last_seq(), topics(in_review)
    with pytest.raises(ServiceError):
        if operation == "clarification_request":
            review.clarification_request(actor=reviewer, request=in_review, clarification_asked="x", reasons=reasons)
        else:
            review.not_executed(actor=reviewer, request=in_review, reasons=reasons)
    in_review.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW
    assert not AnnexIII.objects.exists() and actions(in_review, seq) == [] and topics(in_review) == outbox


def test_not_executed_needs_reasons(in_review, reviewer):
    with pytest.raises(ServiceError):
        review.not_executed(actor=reviewer, request=in_review, reasons=[])
    assert not AnnexIII.objects.exists()


@pytest.fixture
def form(in_review, reviewer):
    return review.clarification_request(actor=reviewer, request=in_review, clarification_asked="Which period?",
                                        reasons=REASONS)


def pdf_url(form) -> str:
    return f"{API}{form.request.reference}/annex-iii/{form.pk}/pdf/"


def test_the_authority_downloads_the_annex_iii_pdf(form, officer_api, officer):
    seq = last_seq()
    response = officer_api.get(pdf_url(form))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and len(response.content) > 1000
    with pikepdf.open(io.BytesIO(response.content)) as pdf:
        assert form.request.reference in str(pdf.docinfo["/Title"])
    event = AuditEvent.objects.get(request_id=form.request_id, seq__gt=seq)
    assert (event.action, event.actor_id) == ("annex_iii.downloaded", officer.pk)


def test_the_detail_links_the_pdf(form, officer_api):
    body = officer_api.get(f"{API}{form.request.reference}/").json()
    (entry,) = body["annex_iii"]
    assert entry["pdf_url"] == pdf_url(form) and entry["reasons"] == form.reasons


def test_another_authority_gets_404_and_the_attempt_is_audited(form, other_api):
    response = other_api.get(pdf_url(form))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(request_id=form.request_id, action="access.denied").count() == 1
    assert not AuditEvent.objects.filter(action="annex_iii.downloaded").exists()


def test_anonymous_gets_401(form, anon_api):
    assert anon_api.get(pdf_url(form)).status_code == 401


def test_unknown_form_is_404(form, officer_api):
    assert officer_api.get(f"{API}{form.request.reference}/annex-iii/{form.pk + 999}/pdf/").status_code == 404


def test_internal_notes_never_reach_the_authority(in_review, reviewer, officer_api):
    note = review.note_add(actor=reviewer, request=in_review, body=SECRET)
    review.message_to_authority(actor=reviewer, request=in_review, body="We are reviewing your order.")
    form = review.clarification_request(actor=reviewer, request=in_review, clarification_asked="Which period?",
                                        reasons=REASONS)
    detail = officer_api.get(f"{API}{in_review.reference}/")
    assert detail.status_code == 200
    assert SECRET not in detail.content.decode() and "internal_notes" not in detail.json()
    assert "We are reviewing your order." in detail.content.decode()
    for payload in OutboxMessage.objects.values_list("payload", flat=True):
        assert SECRET not in json.dumps(payload) and note.pk != payload.get("note_id")
    for data in AuditEvent.objects.values_list("data", flat=True):
        assert SECRET not in json.dumps(data)
    assert SECRET.encode() not in officer_api.get(pdf_url(form)).content
