"""Four eyes (security.md §1.6 R3, ASVS 2.3.5): no data leaves without a second person's approval,
whatever the entry point: the service, the database, or ``workflow.transition`` from a shell."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEvent
from requests_app.models import Approval, LegalRequest, ResponsePackage
from requests_app.services import delivery, review
from requests_app.services.errors import ServiceError
from requests_app.states import Status
from requests_app.workflow import TransitionGuardFailed, lock_request, transition
from tests.conftest import approve_seen

from .conftest import last_seq, open_timers, topics, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_review(submit):
    request = submit()
    assert request.status == Status.IN_REVIEW
    return request


def assert_untouched(request: LegalRequest, seq: int, status: str = Status.IN_REVIEW) -> None:
    request.refresh_from_db()
    assert request.status == status
    assert not AuditEvent.objects.filter(request_id=request.pk, seq__gt=seq).exists()
    assert not ResponsePackage.objects.filter(request=request, released_at__isnull=False).exists()


def test_the_preparer_cannot_approve(in_review, approver):
    delivery.response_prepare(actor=approver, request=in_review, files=[upload()])
    seq, outbox = last_seq(), topics(in_review)
    with pytest.raises(ServiceError) as refused:
        approve_seen(actor=approver, request=in_review)
    assert refused.value.code == "four_eyes" and refused.value.status == 403
    assert not Approval.objects.exists()
    # The refused attempt is on record (issue 14 item 11), and nothing else happened.
    refusal = AuditEvent.objects.get(seq__gt=seq)
    assert refusal.action == "approval.refused_four_eyes" and refusal.actor_id == approver.pk
    assert_untouched(in_review, refusal.seq)
    # Only the administrators' alert of the refused attempt (issue 13 item 7).
    assert topics(in_review) == [*outbox, "alert.four_eyes_refused"]


def test_a_reviewer_cannot_approve(in_review, reviewer, reviewer2):
    delivery.response_prepare(actor=reviewer, request=in_review, files=[upload()])
    seq = last_seq()
    with pytest.raises(ServiceError) as refused:
        approve_seen(actor=reviewer2, request=in_review)
    assert refused.value.code == "permission_denied"
    assert not Approval.objects.exists()
    assert_untouched(in_review, seq)


def test_a_second_approver_after_a_refusal_may_approve(in_review, approver, approver2):
    delivery.response_prepare(actor=approver, request=in_review, files=[upload()])
    with pytest.raises(ServiceError):
        approve_seen(actor=approver, request=in_review)
    approve_seen(actor=approver2, request=in_review)
    in_review.refresh_from_db()
    assert in_review.status == Status.PRODUCED


def test_nothing_to_approve_without_a_prepared_response(in_review, approver):
    seq = last_seq()
    with pytest.raises(ServiceError) as refused:
        approve_seen(actor=approver, request=in_review)
    assert refused.value.code == "invalid_state"
    assert_untouched(in_review, seq)


def test_a_new_draft_replaces_the_old_one_and_only_the_new_one_is_released(in_review, reviewer, reviewer2, approver):
    old = delivery.response_prepare(actor=reviewer, request=in_review, files=[upload(b"old")])
    new = delivery.response_prepare(actor=reviewer2, request=in_review, files=[upload(b"new")])
    approve_seen(actor=approver, request=in_review)
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.purged_at is not None and old.released_at is None and old.approval is None
    assert new.released_at is not None and new.approval.prepared_by == reviewer2


def test_the_database_refuses_an_approval_by_the_preparer(in_review, approver):
    with pytest.raises(IntegrityError), transaction.atomic():
        Approval.objects.create(request=in_review, prepared_by=approver, approved_by=approver)
    assert not Approval.objects.exists()


def test_the_database_refuses_a_released_package_without_approval(in_review, reviewer):
    with pytest.raises(IntegrityError), transaction.atomic():
        ResponsePackage.objects.create(request=in_review, prepared_by=reviewer, released_at=timezone.now())
    package = delivery.response_prepare(actor=reviewer, request=in_review, files=[upload()])
    with pytest.raises(IntegrityError), transaction.atomic():
        ResponsePackage.objects.filter(pk=package.pk).update(released_at=timezone.now())
    package.refresh_from_db()
    assert package.released_at is None


def test_a_shell_cannot_approve_without_an_approval(in_review, reviewer, approver):
    delivery.response_prepare(actor=reviewer, request=in_review, files=[upload()])
    seq = last_seq()
    with pytest.raises(TransitionGuardFailed) as refused:
        transition(lock_request(in_review), Status.APPROVED, actor=approver, reason="shell")
    assert "four eyes" in refused.value.reason
    assert_untouched(in_review, seq)


def test_a_shell_cannot_produce_without_a_released_package(in_review, reviewer, approver):
    """Approved but held (release deferred to hold_until): ``produced`` needs the released package."""
    delivery.response_prepare(actor=reviewer, request=in_review, files=[upload()])
    LegalRequest.objects.filter(pk=in_review.pk).update(hold_until=timezone.now() + timedelta(days=2))
    approve_seen(actor=approver, request=in_review)
    in_review.refresh_from_db()
    assert in_review.status == Status.APPROVED
    seq = last_seq()
    with pytest.raises(TransitionGuardFailed) as refused:
        transition(lock_request(in_review), Status.PRODUCED, actor=approver, reason="shell")
    assert "released" in refused.value.reason
    with pytest.raises(ServiceError):
        delivery.response_release(actor=approver, request=in_review)
    assert_untouched(in_review, seq, status=Status.APPROVED)


# --- An authority user is never a member of the legal team ------------------------------------

REVIEW_CALLS = {
    "review_assign": lambda actor, r, other: review.review_assign(actor=actor, request=r, reviewer=None),
    "note_add": lambda actor, r, other: review.note_add(actor=actor, request=r, body="x"),
    "message_to_authority": lambda actor, r, other: review.message_to_authority(actor=actor, request=r, body="x"),
    "clarification_request": lambda actor, r, other: review.clarification_request(
        actor=actor, request=r, clarification_asked="x"),
    "not_executed": lambda actor, r, other: review.not_executed(
        actor=actor, request=r, reasons=[{"identifier": "all", "reasons": ["other"]}]),
    "request_refuse": lambda actor, r, other: review.request_refuse(actor=actor, request=r, reason="x"),
    "request_reroute": lambda actor, r, other: review.request_reroute(actor=actor, request=r, where="x"),
    "emergency_callback_record": lambda actor, r, other: review.emergency_callback_record(
        actor=actor, request=r, outcome="confirmed"),
    "ea_confirm": lambda actor, r, other: review.ea_confirm(actor=actor, request=r),
    "ea_object": lambda actor, r, other: review.ea_object(actor=actor, request=r, grounds="x"),
    "review_approve": lambda actor, r, other: approve_seen(actor=actor, request=r),
    "preservation_release": lambda actor, r, other: review.preservation_release(actor=actor, request=r, reason="x"),
    "request_close": lambda actor, r, other: review.request_close(actor=actor, request=r),
    "response_prepare": lambda actor, r, other: delivery.response_prepare(actor=actor, request=r, files=[upload()]),
}


@pytest.mark.parametrize("call", REVIEW_CALLS.values(), ids=REVIEW_CALLS.keys())
def test_an_officer_cannot_call_any_review_service(in_review, officer, reviewer, call):
    delivery.response_prepare(actor=reviewer, request=in_review, files=[upload()])
    seq, outbox, timers = last_seq(), topics(in_review), open_timers(in_review)
    with pytest.raises(ServiceError) as refused:
        call(officer, in_review, reviewer)
    assert refused.value.code == "permission_denied"
    assert_untouched(in_review, seq)
    assert topics(in_review) == outbox and open_timers(in_review) == timers


def test_an_officer_cannot_release_an_approved_response(in_review, officer, reviewer, approver):
    delivery.response_prepare(actor=reviewer, request=in_review, files=[upload()])
    # Set-up only: a hold defers the release, so the approved package waits unreleased.
    LegalRequest.objects.filter(pk=in_review.pk).update(hold_until=timezone.now() + timedelta(days=1))
    approve_seen(actor=approver, request=in_review)
    LegalRequest.objects.filter(pk=in_review.pk).update(hold_until=None)
    in_review.refresh_from_db()
    assert in_review.status == Status.APPROVED
    with pytest.raises(ServiceError) as refused:
        delivery.response_release(actor=officer, request=in_review)
    assert refused.value.code == "permission_denied"


def test_an_approval_naming_a_package_that_is_no_longer_the_newest_is_refused(in_review, reviewer, reviewer2,
                                                                              approver):
    """Issue 14 item 2: four eyes bound to the object seen."""
    seen = delivery.response_prepare(actor=reviewer, request=in_review, files=[upload(b"seen")])
    digests = delivery.package_digests(seen)
    newer = delivery.response_prepare(actor=reviewer2, request=in_review, files=[upload(b"swapped in")])
    assert "notify.approval_needed" in topics(in_review)  # the approvers hear of the new draft
    seq = last_seq()
    with pytest.raises(ServiceError) as refused:
        review.review_approve(actor=approver, request=in_review, package_id=seen.pk, digests=digests)
    assert refused.value.code == "stale_package"
    assert not Approval.objects.exists()
    in_review.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW
    refusal = AuditEvent.objects.get(seq__gt=seq)
    assert refusal.action == "approval.refused_stale"
    assert refusal.data == {"package_id_seen": seen.pk, "package_id_newest": newer.pk}


def test_an_approval_whose_digests_differ_from_the_package_is_refused(in_review, reviewer, approver):
    package = delivery.response_prepare(actor=reviewer, request=in_review, files=[upload(b"data")])
    with pytest.raises(ServiceError) as refused:
        review.review_approve(actor=approver, request=in_review, package_id=package.pk, digests=["0" * 64])
    assert refused.value.code == "stale_package"
    assert not Approval.objects.exists()
    review.review_approve(actor=approver, request=in_review, package_id=package.pk,
                          digests=delivery.package_digests(package))
    assert Approval.objects.get().approved_by == approver
    event = AuditEvent.objects.get(action="response.approved")
    assert event.data["files_sha256"] == delivery.package_digests(package)
