"""Two members of the legal team acting on one request at the same moment (issue 9 item 2):
one wins, the other gets a clear conflict, and there is one audit event, not two.

Each actor runs in its own thread with its own database connection; a barrier releases them
together so the second really arrives while the first holds the row lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from audit.models import AuditEvent
from requests_app.models import AnnexIII, Approval, LegalRequest
from requests_app.services import delivery, review
from requests_app.services.errors import ServiceError
from requests_app.services.submission import request_submit
from requests_app.services.validation import request_validate
from requests_app.states import Status
from tests.conftest import validated

from .conftest import upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def in_review(no_publish, officer) -> LegalRequest:
    request, _ = request_submit(actor=officer, data=validated())
    request_validate(request_id=request.pk)
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
    return request


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once, each in its own thread and connection; results or exceptions."""
    barrier = threading.Barrier(len(calls), timeout=30)

    def run(call: Callable[[], Any]) -> Any:
        try:
            barrier.wait()
            return call()
        except Exception as exc:  # the loser's answer is part of the result
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def outcome(results: list[Any]) -> tuple[list[Any], list[Any]]:
    errors = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(e, ServiceError) for e in errors), errors
    return [r for r in results if not isinstance(r, Exception)], errors


def test_two_approvers_approving_at_once_release_once(in_review, reviewer, approver, approver2):
    package = delivery.response_prepare(actor=reviewer, request=in_review, files=[upload()])
    digests = delivery.package_digests(package)

    def approve(actor: Any) -> Callable[[], Any]:
        return lambda: review.review_approve(actor=actor, request=in_review, package_id=package.pk, digests=digests)

    won, lost = outcome(race(approve(approver), approve(approver2)))
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].code == "conflict" and lost[0].status == 409
    assert "already approved" in lost[0].message
    assert Approval.objects.count() == 1
    assert AuditEvent.objects.filter(action="response.approved").count() == 1
    assert AuditEvent.objects.filter(action="response.released").count() == 1
    in_review.refresh_from_db()
    assert in_review.status == Status.PRODUCED


def test_two_reviewers_deciding_at_once_leave_one_draft(in_review, reviewer, reviewer2):
    """Two signatures at once: the request lock orders them; the later one supersedes the
    earlier, so exactly one draft awaits the second person and the state is unchanged."""
    results = race(lambda: review.request_reroute(actor=reviewer, request=in_review, where="the DE establishment"),
                   lambda: review.request_refuse(actor=reviewer2, request=in_review, reason="manifestly abusive"))
    won, lost = outcome(results)
    assert len(won) == 2 and lost == []
    in_review.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW
    pending = AnnexIII.objects.filter(request=in_review, superseded_at__isnull=True)
    assert pending.count() == 1 and AnnexIII.objects.filter(request=in_review).count() == 2
    assert review.pending_refusal(in_review) == pending.get()


def test_two_approvers_of_one_refusal_make_one_decision(in_review, reviewer, approver, approver2):
    form = review.request_refuse(actor=reviewer, request=in_review, reason="manifestly abusive")
    digest = review.annex_iii_digest(form)

    def approve(actor):
        return lambda: review.refusal_approve(actor=actor, request=in_review, annex_iii_id=form.pk, digest=digest)

    won, lost = outcome(race(approve(approver), approve(approver2)))
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].code == "conflict" and "already approved" in lost[0].message
    in_review.refresh_from_db()
    assert in_review.status == Status.REFUSED
    moves = AuditEvent.objects.filter(request_id=in_review.pk, action="request.status_changed",
                                      data__from=Status.IN_REVIEW)
    assert moves.count() == 1 and AuditEvent.objects.filter(action="annex_iii.approved").count() == 1
