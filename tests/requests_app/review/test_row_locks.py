"""One lock per operation (issue 10 item 4): a service locks the request row once and hands
the locked instance to ``workflow.transition()``, which does not lock it again."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from requests_app.services import delivery, review
from requests_app.states import Status
from tests.conftest import approve_seen
from tests.four_eyes import approve_annex

from .conftest import upload

pytestmark = pytest.mark.django_db


def request_row_locks(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries
            if "FOR UPDATE" in q["sql"] and 'FROM "requests_app_legalrequest"' in q["sql"]]


def test_review_approve_locks_the_request_row_once(submit, reviewer, approver):
    request = submit()
    delivery.response_prepare(actor=reviewer, request=request, files=[upload()])
    with CaptureQueriesContext(connection) as queries:
        approve_seen(actor=approver, request=request)
    request.refresh_from_db()
    assert request.status == Status.PRODUCED  # approved and released in that one lock
    assert len(request_row_locks(queries)) == 1, request_row_locks(queries)


def test_a_transition_service_locks_the_request_row_once(submit, reviewer, approver):
    request = submit()
    draft = review.request_refuse(actor=reviewer, request=request, reason="Not our service.")
    with CaptureQueriesContext(connection) as queries:
        approve_annex(approver, draft)  # the second person's approval moves the request
    request.refresh_from_db()
    assert request.status == Status.REFUSED
    assert len(request_row_locks(queries)) == 1, request_row_locks(queries)


def test_a_stale_copy_is_still_told_it_moved_meanwhile(submit, reviewer, approver):
    """The service locks the row itself; a person acting on an old page is told plainly."""
    request = submit()
    stale = type(request).objects.get(pk=request.pk)
    approve_annex(approver, review.request_refuse(actor=reviewer, request=request, reason="Not our service."))
    with pytest.raises(review.InvalidState, match="meanwhile"):
        review.request_close(actor=reviewer, request=stale)
