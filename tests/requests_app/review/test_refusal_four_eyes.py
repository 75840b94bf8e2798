"""Refusal, rerouting and non-execution (full or partial) with Annex III and four eyes
(issue 11, issue 14 item 2): one member of the legal team signs the Annex III draft, a second
approves exactly that draft (its id and the SHA-256 of its content); only then is the form
sent to the authority (portal, PDF, e-mail notice) and the request closed; a partial
non-execution keeps the request working for the categories and targets still executed."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.models import AnnexIII
from requests_app.services import delivery, review
from requests_app.services.errors import InvalidState, ServiceError
from requests_app.states import Status
from tests.conftest import approve_seen
from tests.four_eyes import approve_annex

from .conftest import actions, last_seq, open_timers, topics, upload
from .test_lifecycles import judge_validation

pytestmark = pytest.mark.django_db

API = "/api/v1/requests/"


@pytest.fixture
def in_review(submit):
    request = submit()
    assert request.status == Status.IN_REVIEW
    return request


def _officer_sees(officer_api, request):
    body = officer_api.get(f"{API}{request.reference}/").json()
    return body


@pytest.mark.parametrize("operation", ["refuse", "reroute"])
def test_refuse_and_reroute_sign_an_annex_iii_sent_after_a_second_person(in_review, reviewer, approver,
                                                                          officer_api, operation):
    seq = last_seq()
    if operation == "refuse":
        form = review.request_refuse(actor=reviewer, request=in_review, reason="Manifest abuse of the procedure.")
        status, kind, resolution = Status.REFUSED, "refusal", "refused"
    else:
        form = review.request_reroute(actor=reviewer, request=in_review, where="The Danish MLA route.")
        status, kind, resolution = Status.REROUTED, "reroute", "rerouted"
    in_review.refresh_from_db()
    assert (in_review.status, form.kind, form.sent_at, form.signed_by) == (Status.IN_REVIEW, kind, None, reviewer)
    assert form.reasons[0]["identifier"] == "" and form.reasons[0]["data_category"] is None
    assert [c["allowed"] for c in form.decided["categories"]] == [False]
    # The authority sees nothing of a draft: not in the detail, not as a PDF.
    assert _officer_sees(officer_api, in_review)["annex_iii"] == []
    assert officer_api.get(f"{API}{in_review.reference}/annex-iii/{form.pk}/pdf/").status_code == 404
    assert "notify.decision" not in topics(in_review)
    assert open_timers(in_review), "the deadlines run on until the decision is approved"

    approve_annex(approver, form)
    in_review.refresh_from_db()
    assert (in_review.status, in_review.resolution) == (status, resolution)
    assert open_timers(in_review) == {}
    approved = AuditEvent.objects.get(request_id=in_review.pk, action="annex_iii.approved")
    assert (approved.actor_id, approved.data["annex_iii_id"], approved.data["sha256"]) == (
        approver.pk, form.pk, review.annex_iii_digest(form))
    assert actions(in_review, seq)[-3:] == ["annex_iii.drafted", "annex_iii.approved", "request.status_changed"]
    notice = OutboxMessage.objects.filter(request=in_review, topic="notify.decision").get()
    assert notice.payload["annex_iii_id"] == form.pk
    if operation == "reroute":
        assert notice.payload["where"] == "The Danish MLA route."
    # What the officer sees: the signed, approved form, its PDF, and the person's decision.
    body = _officer_sees(officer_api, in_review)
    (entry,) = body["annex_iii"]
    assert (entry["id"], entry["kind"], entry["partial"]) == (form.pk, kind, False)
    assert body["decision"]["person_decision"]["outcome"] == status
    assert body["decision"]["person_decision"]["annex_iii_id"] == form.pk
    pdf = officer_api.get(entry["pdf_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_the_officers_web_page_shows_the_refusal_only_once_approved(in_review, officer, reviewer, approver):
    from django.test import Client
    from django.urls import reverse

    from tests.web.conftest import reauthenticated

    web = Client()
    web.force_login(officer)
    url = reverse("portal:request_detail", args=[in_review.reference])
    form = review.request_refuse(actor=reviewer, request=in_review, reason="Manifest abuse of the procedure.")
    page = web.get(url).content.decode()
    assert 'id="annex-iii"' not in page and "Refusal on grounds" not in page
    pdf_url = reverse("portal:annex_iii_download", args=[in_review.reference, form.pk])
    assert reauthenticated(web, officer).get(pdf_url).status_code == 404
    approve_annex(approver, form)
    page = web.get(url).content.decode()
    assert 'id="annex-iii"' in page and "Refusal on grounds" in page and pdf_url in page
    pdf = reauthenticated(web, officer).get(pdf_url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_a_us_process_refusal_gets_the_same_structured_notice(submit, make_authority, reviewer, approver):
    from accounts.services import officer_create
    from tests.conftest import client_for

    us = make_authority(name="US agency", country="US", authority_type="court", domains=["agency.example.gov"],
                        switchboard_phone="+12025550100")
    clerk = officer_create(authority=us, email="clerk@agency.example.gov")
    request = submit(clerk, instrument="us_subpoena", validation=None, language="en")
    form = review.request_refuse(actor=reviewer, request=request, reason="Overbroad subpoena.")
    approve_annex(approver, form)
    request.refresh_from_db()
    assert request.status == Status.REFUSED
    # No "Reg. (EU) 2023/1543 Annex III" basis on a US order's verdicts.
    assert form.decided["categories"][0]["legal_basis"] == ""
    body = client_for(clerk).get(f"{API}{request.reference}/").json()
    assert [f["kind"] for f in body["annex_iii"]] == ["refusal"]


def test_the_signer_cannot_approve_their_own_annex_iii(in_review, approver):
    # An approver may also review; they sign, then try to approve their own draft.
    form = review.not_executed(actor=approver, request=in_review,
                               reasons=[{"identifier": "", "reasons": ["data_not_stored"]}])
    seq = last_seq()
    with pytest.raises(ServiceError) as exc:
        approve_annex(approver, form)
    assert exc.value.code == "four_eyes"
    in_review.refresh_from_db()
    form.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW and form.sent_at is None and form.approved_by is None
    assert actions(in_review, seq) == ["approval.refused_four_eyes"]
    assert "notify.decision" not in topics(in_review)


def test_a_newer_draft_voids_the_approval_of_the_old_one(in_review, reviewer, reviewer2, approver):
    first = review.request_refuse(actor=reviewer, request=in_review, reason="Abusive.")
    second = review.request_reroute(actor=reviewer2, request=in_review, where="Domestic order instead.")
    first.refresh_from_db()
    assert first.superseded_at is not None and review.pending_refusal(in_review) == second
    seq = last_seq()
    with pytest.raises(ServiceError) as exc:
        approve_annex(approver, first)
    assert exc.value.code == "stale_draft"
    in_review.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW
    event = AuditEvent.objects.get(request_id=in_review.pk, seq__gt=seq)
    assert (event.action, event.data["annex_iii_id_seen"], event.data["annex_iii_id_newest"]) == (
        "approval.refused_stale", first.pk, second.pk)
    approve_annex(approver, second)
    in_review.refresh_from_db()
    assert in_review.status == Status.REROUTED
    assert not AnnexIII.objects.filter(pk=first.pk, sent_at__isnull=False).exists()


def test_a_draft_changed_behind_the_approvers_back_is_refused(in_review, reviewer, approver):
    form = review.not_executed(actor=reviewer, request=in_review,
                               reasons=[{"identifier": "", "reasons": ["data_not_stored"]}])
    seen = review.annex_iii_digest(form)
    AnnexIII.objects.filter(pk=form.pk).update(reasons=[{"identifier": "", "data_category": None,
                                                        "reasons": ["other"], "explanation": "changed"}])
    with pytest.raises(ServiceError) as exc:
        review.refusal_approve(actor=approver, request=in_review, annex_iii_id=form.pk, digest=seen)
    assert exc.value.code == "stale_draft"
    in_review.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW
    assert AuditEvent.objects.filter(request_id=in_review.pk, action="approval.refused_stale").count() == 1


def test_approval_needs_the_approver_role_and_a_draft(in_review, reviewer, reviewer2, approver):
    form = review.request_refuse(actor=reviewer, request=in_review, reason="Abusive.")
    with pytest.raises(ServiceError):
        approve_annex(reviewer2, form)  # a reviewer is not an approver
    approve_annex(approver, form)
    with pytest.raises(ServiceError) as exc:
        approve_annex(approver, form)  # twice: already done
    assert exc.value.code == "conflict"


def test_refusal_in_a_closed_request_or_without_reason_changes_nothing(in_review, reviewer, approver):
    seq, outbox = last_seq(), topics(in_review)
    with pytest.raises(ServiceError):
        review.request_refuse(actor=reviewer, request=in_review, reason="  ")
    assert not AnnexIII.objects.exists() and actions(in_review, seq) == [] and topics(in_review) == outbox
    approve_annex(approver, review.request_refuse(actor=reviewer, request=in_review, reason="Abusive."))
    with pytest.raises(InvalidState):
        review.request_reroute(actor=reviewer, request=in_review, where="MLA")
    assert AnnexIII.objects.count() == 1


def test_partial_non_execution_per_category_keeps_the_rest_in_production(submit, reviewer, approver, approver2,
                                                                          officer_api):
    request = submit(data_categories=["subscriber", "traffic"], validation=judge_validation())
    assert request.status == Status.IN_REVIEW
    form = review.not_executed(actor=reviewer, request=request, reasons=[
        {"identifier": "", "data_category": "traffic", "reasons": ["offence_outside_art_5_4"],
         "explanation": "Art. 8 notification missing for traffic data."}])
    assert form.partial
    approve_annex(approver, form)
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW and request.resolution == ""
    assert open_timers(request), "the production deadline still runs for the subscriber data"
    verdicts = {c["data_category"]: c for c in request.decision["categories"]}
    assert verdicts["subscriber"]["allowed"] is True
    assert (verdicts["traffic"]["allowed"], verdicts["traffic"]["reason_code"], verdicts["traffic"]["rule_id"]) == (
        False, "offence_outside_art_5_4", "annex_iii")
    assert request.decision["partial_non_execution"]["annex_iii_id"] == form.pk
    assert AuditEvent.objects.filter(request_id=request.pk, action="request.partially_not_executed").exists()
    assert OutboxMessage.objects.filter(request=request, topic="notify.decision").get().payload == {
        "annex_iii_id": form.pk}
    body = officer_api.get(f"{API}{request.reference}/").json()
    assert body["status"] == "in_review"
    person = body["decision"]["person_decision"]
    assert person["outcome"] == "partially_not_executed" and person["annex_iii_id"] == form.pk
    assert {c["data_category"]: c["allowed"] for c in person["categories"]} == {"subscriber": True, "traffic": False}
    assert [f["partial"] for f in body["annex_iii"]] == [True]
    # The subscriber data are still produced (four eyes on the package too).
    delivery.response_prepare(actor=reviewer, request=request, files=[upload()])
    approve_seen(actor=approver2, request=request)
    request.refresh_from_db()
    assert request.status == Status.PRODUCED


def test_partial_non_execution_per_target(in_review, reviewer, approver, officer_api):
    form = review.not_executed(actor=reviewer, request=in_review, reasons=[
        {"identifier": "phone: +33612345678", "target": 1, "reasons": ["data_not_stored"]}])
    assert form.partial
    assert [(t["index"], [c["allowed"] for c in t["categories"]]) for t in form.decided["targets"]] == [(1, [False])]
    approve_annex(approver, form)
    in_review.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW
    targets = {t["index"]: t for t in in_review.decision["targets"]}
    assert (targets[0]["allowed"], targets[1]["allowed"], targets[2]["allowed"]) == (True, False, True)
    assert targets[1]["reason_code"] == "data_not_stored"
    body = officer_api.get(f"{API}{in_review.reference}/").json()
    assert [t["allowed"] for t in body["decision"]["targets"]] == [True, False, True]


def test_non_execution_of_every_target_is_full(in_review, reviewer, approver):
    form = review.not_executed(actor=reviewer, request=in_review, reasons=[
        {"identifier": f"t{i}", "target": i, "reasons": ["data_not_stored"]} for i in range(3)])
    assert not form.partial
    approve_annex(approver, form)
    in_review.refresh_from_db()
    assert in_review.status == Status.NOT_EXECUTED
