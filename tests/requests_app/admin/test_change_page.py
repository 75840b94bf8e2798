"""The request page: the decision, related records and the audit timeline, all escaped, and
only the actions the role and the state allow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from requests_app.admin_views.timeline import describe
from requests_app.models import AnnexIII, CallbackVerification, InternalNote, Message
from requests_app.services import review
from tests.four_eyes import approve_annex

from .conftest import XSS, XSS_ESCAPED, act_url, change_url, login

pytestmark = pytest.mark.django_db

DECISION = {
    "route": "partially_accepted", "target_status": "in_review", "rulebook_version": "2026.11",
    "findings": [{"code": "traffic_needs_listed_offence", "severity": "error", "data_category": "traffic",
                  "legal_basis": "Reg. (EU) 2023/1543 Art. 5(4)", "message": "Traffic data needs a 3-year offence."}],
    "verdicts": [{"data_category": "subscriber", "allowed": True, "reason_code": "allowed", "rule_id": "R1",
                  "legal_basis": "Reg. (EU) 2023/1543 Art. 5(3)"},
                 {"data_category": "traffic", "allowed": False, "reason_code": "traffic_needs_listed_offence",
                  "rule_id": "R3", "legal_basis": "Reg. (EU) 2023/1543 Art. 5(4)"}],
    "deadlines": [{"kind": "production", "due_at": "2026-12-08T10:00:00+00:00",
                   "explanation": "10 days from receipt (Art. 10(2)).", "rule_applied": "calendar_days",
                   "legal_basis": "Reg. (EU) 2023/1543 Art. 10(2)", "warn_at": None, "informational": False,
                   "not_before": False}],
}


def test_the_decision_is_shown_with_articles_verdicts_and_deadlines(as_reviewer, make_request):
    obj = make_request(decision=DECISION)
    html = as_reviewer.get(change_url(obj)).content.decode()
    # Codes the team searches stay as codes; route, categories and due time read as words
    # and the reader's time (tests/e2e/test_admin_request_decision.py).
    for text in ("Partially accepted", "traffic_needs_listed_offence", "Reg. (EU) 2023/1543 Art. 5(4)",
                 "Traffic data needs a 3-year offence.", "Subscriber data", "10 days from receipt (Art. 10(2)).",
                 "calendar_days", "rulebook 2026.11", "2026-12-08 11:00 CET (Europe/Brussels)"):
        assert text in html, text


def test_related_records_and_timeline(as_reviewer, reviewer, approver, make_request):
    obj = make_request(targets=("suspect_account", "+33612345678"))
    review.note_add(actor=reviewer, request=obj, body="Looks genuine.")
    review.message_to_authority(actor=reviewer, request=obj, body="Please send the signed order.")
    review.review_assign(actor=reviewer, request=obj, reviewer=reviewer)
    approve_annex(approver, review.request_refuse(actor=reviewer, request=obj, reason="Manifestly abusive."))
    html = as_reviewer.get(change_url(obj)).content.decode()
    for text in ("suspect_account", "+33612345678", "Looks genuine.", "Please send the signed order.",
                 "reviewer@provider.example added an internal note",
                 "reviewer@provider.example sent a message to the authority",
                 "reviewer@provider.example assigned the request",
                 "approver@provider.example moved the request from in legal review to refused: Manifestly abusive."):
        assert text in html, text


def test_timeline_sentences():
    assert describe("request.status_changed", {"from": "received", "to": "validating",
                                               "reason": "automatic validation started"}) == (
        "moved the request from received to validating: automatic validation started")
    assert describe("emergency.callback", {"outcome": "confirmed", "phone_called": "+331"}) == (
        "recorded a call-back to +331: confirmed")
    assert describe("something.new", {}) == "recorded “something.new”"


def test_stored_xss_in_free_text_renders_as_text(as_reviewer, reviewer, approver, make_request, officer):
    obj = make_request(summary=XSS, case_reference=XSS, targets=(XSS,), emergency_reason=XSS,
                       decision={**DECISION, "findings": [{**DECISION["findings"][0], "message": XSS}]})
    Message.objects.create(request=obj, kind="from_authority", body=XSS, author=officer)
    InternalNote.objects.create(request=obj, author=reviewer, body=XSS)
    AnnexIII.objects.create(request=obj, kind="clarification", clarification_asked=XSS,
                            reasons=[{"identifier": XSS, "reasons": ["other"], "explanation": XSS}])
    CallbackVerification.objects.create(request=obj, phone_called="+331", called_by=reviewer, outcome="no_answer",
                                        person_reached=XSS, notes=XSS)
    # Lands in the audit timeline once approved.
    approve_annex(approver, review.request_refuse(actor=reviewer, request=obj, reason=XSS))
    html = as_reviewer.get(change_url(obj)).content.decode()
    assert XSS not in html
    assert html.count(XSS_ESCAPED) >= 9


def test_a_reviewer_never_sees_approve(as_reviewer, make_request):
    obj = make_request()
    html = as_reviewer.get(change_url(obj)).content.decode()
    assert act_url(obj, "refuse") in html and act_url(obj, "prepare") in html
    assert act_url(obj, "approve") not in html


def test_an_approver_sees_approve_when_the_state_allows_it(as_approver, make_request):
    in_review = make_request()
    closed = make_request(status="closed")
    assert act_url(in_review, "approve") in as_approver.get(change_url(in_review)).content.decode()
    html = as_approver.get(change_url(closed)).content.decode()
    assert act_url(closed, "approve") not in html and act_url(closed, "refuse") not in html
    assert act_url(closed, "note") in html


def test_actions_follow_the_state(as_reviewer, make_request):
    hold = make_request(emergency=True, status="verification_hold", due_at=timezone.now() + timedelta(hours=8))
    html = as_reviewer.get(change_url(hold)).content.decode()
    assert act_url(hold, "callback") in html
    assert act_url(hold, "prepare") not in html and act_url(hold, "ea_confirm") not in html
    waiting = make_request(status="awaiting_enforcing_authority")
    html = as_reviewer.get(change_url(waiting)).content.decode()
    assert act_url(waiting, "ea_confirm") in html and act_url(waiting, "ea_object") in html
    assert act_url(waiting, "callback") not in html


def test_response_package_shows_file_hashes(reviewer, make_request):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from requests_app.models import ResponseFile
    from requests_app.services.delivery import response_prepare

    obj = make_request()
    response_prepare(actor=reviewer, request=obj, files=[SimpleUploadedFile("data.csv", b"a,b\n")], cover_note="Hi")
    html = login(reviewer).get(change_url(obj)).content.decode()
    assert "data.csv" in html
    assert ResponseFile.objects.get(package__request=obj).sha256 in html
