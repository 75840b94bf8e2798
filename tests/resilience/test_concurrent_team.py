"""Two members of the legal team acting on one request at once (issue 9 §2): one wins, the
other gets a clear conflict (409), one audit event; afterwards submitted = decided = audited
and ``verify_audit`` passes. Real PostgreSQL, each actor in its own thread and connection,
released together by a barrier (the race helpers of tests/requests_app/review)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from audit.models import AuditEvent
from requests_app.models import Approval
from requests_app.services import delivery, review
from requests_app.states import Status
from tests.requests_app.review.conftest import upload
from tests.requests_app.review.test_concurrent_actions import in_review, outcome, race  # noqa: F401 (fixture)

from .conftest import assert_books_balance

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_approvers_releasing_one_response_at_once(in_review, reviewer, approver, approver2):  # noqa: F811
    package = delivery.response_prepare(actor=reviewer, request=in_review, files=[upload()])
    digests = delivery.package_digests(package)

    def approve(actor: Any) -> Callable[[], Any]:
        return lambda: review.review_approve(actor=actor, request=in_review, package_id=package.pk, digests=digests)

    won, lost = outcome(race(approve(approver), approve(approver2)))
    assert len(won) == 1 and len(lost) == 1
    assert (lost[0].code, lost[0].status) == ("conflict", 409) and "already approved" in lost[0].message
    assert Approval.objects.count() == 1
    assert AuditEvent.objects.filter(action="response.approved").count() == 1
    assert AuditEvent.objects.filter(action="response.released").count() == 1
    in_review.refresh_from_db()
    assert in_review.status == Status.PRODUCED
    assert_books_balance([in_review.pk])


def test_two_approvers_deciding_one_refusal_at_once(in_review, reviewer, approver, approver2):  # noqa: F811
    form = review.request_refuse(actor=reviewer, request=in_review, reason="manifestly abusive")
    digest = review.annex_iii_digest(form)

    def approve(actor: Any) -> Callable[[], Any]:
        return lambda: review.refusal_approve(actor=actor, request=in_review, annex_iii_id=form.pk, digest=digest)

    won, lost = outcome(race(approve(approver), approve(approver2)))
    assert len(won) == 1 and len(lost) == 1
    assert (lost[0].code, lost[0].status) == ("conflict", 409)
    in_review.refresh_from_db()
    assert in_review.status == Status.REFUSED
    assert AuditEvent.objects.filter(request_id=in_review.pk, action="request.status_changed",
                                     data__to=Status.REFUSED).count() == 1
    assert AuditEvent.objects.filter(action="annex_iii.approved").count() == 1
    assert_books_balance([in_review.pk])
