"""The officer's page never shows a due date or a preservation to act on once the request
is closed (not executed, refused, rerouted, withdrawn, preservation released)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from requests_app.permissions import REVIEWER
from requests_app.services import review
from requests_app.services.submission import request_withdraw
from requests_app.states import Status
from tests.four_eyes import approve_annex
from tests.requests_app.review.conftest import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(db):
    return staff("reviewer@provider.example", REVIEWER)


def page(client, legal_request) -> str:
    response = client.get(reverse("portal:request_detail", args=[legal_request.reference]))
    assert response.status_code == 200
    return response.content.decode()


def shows_a_deadline(body: str, legal_request) -> bool:
    due = legal_request.due_at.strftime("%Y-%m-%d %H:%M") if legal_request.due_at else "@@none@@"
    return (due in body or 'id="request-due"' in body or 'id="deadlines"' in body
            or "How the deadline is computed" in body)


def test_an_open_request_shows_its_due_date(make_request, officer_client):
    legal_request = make_request()
    assert legal_request.status == Status.IN_REVIEW and legal_request.due_at
    assert shows_a_deadline(page(officer_client, legal_request), legal_request)


@pytest.mark.parametrize("close", ["not_executed", "refused", "rerouted", "withdrawn"])
def test_a_closed_production_order_shows_no_due_date(make_request, officer, officer_client, reviewer, approver,
                                                     close):
    legal_request = make_request()
    assert legal_request.due_at is not None
    if close == "not_executed":
        approve_annex(approver, review.not_executed(actor=reviewer, request=legal_request,
                                                    reasons=[{"identifier": "", "reasons": ["data_not_stored"]}]))
    elif close == "refused":
        approve_annex(approver, review.request_refuse(actor=reviewer, request=legal_request,
                                                      reason="Provider policy."))
    elif close == "rerouted":
        approve_annex(approver, review.request_reroute(actor=reviewer, request=legal_request, where="Use MLA."))
    else:
        request_withdraw(actor=officer, request=legal_request, reason="No longer needed.")
    legal_request.refresh_from_db()
    assert not legal_request.is_open and legal_request.due_at is not None  # the stored value stays
    body = page(officer_client, legal_request)
    assert not shows_a_deadline(body, legal_request)
    listing = officer_client.get(reverse("portal:request_list")).content.decode()
    assert legal_request.due_at.strftime("%Y-%m-%d %H:%M") not in listing


def test_a_released_preservation_shows_no_expiry_to_act_on(make_request, officer_client, reviewer):
    legal_request = make_request(instrument="epoc_pr", data_categories=["subscriber", "content"])
    assert legal_request.status == Status.PRESERVING
    open_body = page(officer_client, legal_request)
    assert re.search(r"(?i)preserv", open_body.split('id="decision"')[0])  # open: the expiry is shown
    review.preservation_release(actor=reviewer, request=legal_request, reason="Case closed.")
    legal_request.refresh_from_db()
    assert legal_request.status == Status.RELEASED
    body = page(officer_client, legal_request)
    assert not shows_a_deadline(body, legal_request)
    assert not re.search(r"(?i)preserve (now|until)|expires", body)


# The rule check's "preserve now" instruction (Reg. 2023/1543 Art. 10(1), 11(1)) is a duty while
# the request is open; on a closed request it would tell the reader to act on nothing.
PRESERVE_NOW = re.compile(r"(?i)preserve\b[^<.]*\b(now|until)\b")


def test_a_withdrawn_order_shows_no_preserve_now(make_request, officer, officer_client):
    legal_request = make_request()
    assert "EE_PRESERVE_ON_RECEIPT" in {f["code"] for f in legal_request.decision["findings"]}
    assert PRESERVE_NOW.search(page(officer_client, legal_request))  # open: the duty is shown
    request_withdraw(actor=officer, request=legal_request, reason="No longer needed.")
    legal_request.refresh_from_db()
    body = page(officer_client, legal_request)
    assert not PRESERVE_NOW.search(body)
    assert 'data-code="EE_PRESERVE_ON_RECEIPT"' not in body


def test_a_released_preservation_shows_no_preserve_now(make_request, officer_client, reviewer):
    legal_request = make_request(instrument="epoc_pr", data_categories=["subscriber", "content"])
    review.preservation_release(actor=reviewer, request=legal_request, reason="Case closed.")
    legal_request.refresh_from_db()
    body = page(officer_client, legal_request)
    assert not PRESERVE_NOW.search(body)
    assert "Subscriber data" in body  # the decision per category is still there
