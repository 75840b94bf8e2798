"""The request page and what an officer does there."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from requests_app.models import Attachment, Message
from requests_app.permissions import APPROVER, REVIEWER
from requests_app.services import delivery, review
from requests_app.states import Status
from tests.conftest import approve_seen
from tests.requests_app.api.helpers import pdf_bytes, upload
from tests.requests_app.review.conftest import PAYLOAD, PAYLOAD_SHA256, staff
from tests.requests_app.review.conftest import upload as text_upload

from .conftest import reauthenticated

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(db):
    return staff("reviewer@provider.example", REVIEWER)


@pytest.fixture
def approver(db):
    return staff("approver@provider.example", APPROVER)


def url(name, legal_request, *args):
    return reverse(f"portal:{name}", args=[legal_request.reference, *args])


def test_detail_shows_status_timeline_decision_and_deadline(own_request, officer_client):
    body = officer_client.get(url("request_detail", own_request)).content.decode()
    assert own_request.reference in body
    assert own_request.get_status_display() in body
    assert "Status history" in body
    assert "Received" in body
    assert own_request.receipt_hash in body
    if own_request.due_at:
        assert own_request.due_at.strftime("%Y-%m-%d %H:%M") in body


def test_detail_shows_findings_with_the_article(make_request, officer_client):
    legal_request = make_request(data_categories=["content"], offence={
        "description": "Theft", "legal_provisions": "Art. 311-1", "max_sentence_months": 12,
        "listed_offence": None, "via_information_system": False, "sentence_execution": None})
    body = officer_client.get(url("request_detail", legal_request)).content.decode()
    assert "Reg. (EU) 2023/1543 Art." in body
    assert 'class="finding finding-' in body


def test_officer_writes_to_the_legal_team(own_request, officer_client, officer):
    response = officer_client.post(url("message_create", own_request), {"body": "Any news?"})
    assert response.status_code == 302
    message = Message.objects.get(request=own_request)
    assert message.kind == "from_authority" and message.author == officer
    assert "Any news?" in officer_client.get(url("request_detail", own_request)).content.decode()


def test_empty_message_is_refused_with_an_error(own_request, officer_client):
    response = officer_client.post(url("message_create", own_request), {"body": ""})
    assert response.status_code == 400
    assert 'href="#id_body"' in response.content.decode()
    assert not Message.objects.exists()


def test_other_authority_cannot_write_or_upload(own_request, other_client):
    assert other_client.post(url("message_create", own_request), {"body": "x"}).status_code == 404
    assert other_client.post(url("attachment_upload", own_request),
                             {"file": upload(pdf_bytes()), "kind": "other"}).status_code == 404
    assert not Message.objects.exists() and not Attachment.objects.exists()


def test_withdraw_needs_confirmation(own_request, officer_client):
    page = officer_client.get(url("request_withdraw", own_request))
    assert page.status_code == 200
    refused = officer_client.post(url("request_withdraw", own_request), {"reason": "done"})
    assert refused.status_code == 400
    own_request.refresh_from_db()
    assert own_request.status != Status.WITHDRAWN
    done = officer_client.post(url("request_withdraw", own_request), {"reason": "done", "confirm": "on"})
    assert done.status_code == 302
    own_request.refresh_from_db()
    assert own_request.status == Status.WITHDRAWN


def test_withdraw_by_colleague_of_same_authority(own_request, colleague_client):
    colleague_client.post(url("request_withdraw", own_request), {"confirm": "on"})
    own_request.refresh_from_db()
    assert own_request.status == Status.WITHDRAWN


def test_upload_and_download_an_attachment(own_request, officer_client, colleague_client, other_client):
    data = pdf_bytes()
    response = officer_client.post(url("attachment_upload", own_request), {"file": upload(data), "kind": "other"})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    download = colleague_client.get(url("attachment_download", own_request, attachment.pk))
    assert download.status_code == 200
    served = b"".join(download.streaming_content)
    assert hashlib.sha256(served).hexdigest() == attachment.sha256
    assert attachment.original_sha256 == hashlib.sha256(data).hexdigest()
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Cache-Control"] == "no-store"
    assert other_client.get(url("attachment_download", own_request, attachment.pk)).status_code == 404
    assert AuditEvent.objects.filter(action="attachment.downloaded").count() == 1


def test_a_non_pdf_upload_is_refused(own_request, officer_client):
    response = officer_client.post(url("attachment_upload", own_request),
                                   {"file": upload(b"not a pdf", "x.pdf"), "kind": "other"})
    assert response.status_code == 400
    assert 'href="#id_file"' in response.content.decode()
    assert not Attachment.objects.exists()


def test_response_download_needs_reauthentication(own_request, officer, officer_client, reviewer, approver):
    assert own_request.status == Status.IN_REVIEW
    delivery.response_prepare(actor=reviewer, request=own_request, files=[text_upload()])
    approve_seen(actor=approver, request=own_request)
    package = delivery.released_package(own_request)
    item = package.files.get()
    detail = officer_client.get(url("request_detail", own_request)).content.decode()
    assert PAYLOAD_SHA256 in detail
    file_url = url("response_download", own_request, item.pk)
    # given a session without a recent re-authentication
    first = officer_client.get(file_url)
    assert first.status_code == 302
    assert reverse("account_reauthenticate") in first["Location"]
    assert not AuditEvent.objects.filter(action="response.downloaded").exists()
    # when the officer has re-authenticated
    reauthenticated(officer_client, officer)
    second = officer_client.get(file_url)
    # then the file is served, audited, never cached
    assert second.status_code == 200
    assert second.content == PAYLOAD
    assert second["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="response.downloaded").count() == 1


def test_other_authority_cannot_download_the_response(own_request, other_officer, other_client, reviewer,
                                                     approver):
    delivery.response_prepare(actor=reviewer, request=own_request, files=[text_upload()])
    approve_seen(actor=approver, request=own_request)
    item = delivery.released_package(own_request).files.get()
    reauthenticated(other_client, other_officer)
    assert other_client.get(url("response_download", own_request, item.pk)).status_code == 404


def test_clarification_answer_with_corrections_and_pdf(own_request, officer, officer_client, reviewer):
    form = review.clarification_request(actor=reviewer, request=own_request, clarification_asked="Which account?")
    page = officer_client.get(url("clarification", own_request))
    assert page.status_code == 200
    assert "Which account?" in page.content.decode()
    # The correction form is prefilled from the stored request.
    assert 'value="suspect_account"' in page.content.decode()
    from .forms import form_data

    data = form_data(summary="Corrected summary.", case_reference=own_request.case_reference)
    data.update({"message": "It is suspect_account.", "correct": "on", "document": upload(pdf_bytes())})
    response = officer_client.post(url("clarification", own_request), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    own_request.refresh_from_db()
    assert own_request.status == Status.VALIDATING
    assert own_request.summary == "Corrected summary."
    answer = Message.objects.get(request=own_request, kind="clarification_answer")
    assert "summary" in answer.changes["fields"]
    assert Attachment.objects.filter(request=own_request, kind="clarification").exists()
    # Annex III PDF needs re-authentication too.
    pdf_url = url("annex_iii_download", own_request, form.pk)
    assert officer_client.get(pdf_url).status_code == 302
    reauthenticated(officer_client, officer)
    pdf = officer_client.get(pdf_url)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_clarification_answer_without_corrections(own_request, officer_client, reviewer):
    review.clarification_request(actor=reviewer, request=own_request, clarification_asked="Why?")
    response = officer_client.post(url("clarification", own_request), {"message": "Because."})
    assert response.status_code == 302
    own_request.refresh_from_db()
    assert own_request.status == Status.VALIDATING
    answer = Message.objects.get(request=own_request, kind="clarification_answer")
    assert answer.changes["fields"] == []


def test_clarification_page_when_nothing_is_asked_redirects(own_request, officer_client):
    response = officer_client.get(url("clarification", own_request))
    assert response["Location"] == url("request_detail", own_request)


def test_request_list_filters_and_scopes(make_request, officer_client, other_officer):
    mine = make_request()
    preservation = make_request(instrument="epoc_pr")
    theirs = make_request(actor=other_officer)
    body = officer_client.get(reverse("portal:request_list")).content.decode()
    assert mine.reference in body and preservation.reference in body and theirs.reference not in body
    filtered = officer_client.get(reverse("portal:request_list"), {"instrument": "epoc_pr"}).content.decode()
    assert preservation.reference in filtered and mine.reference not in filtered
    by_status = officer_client.get(reverse("portal:request_list"), {"status": "withdrawn"}).content.decode()
    assert mine.reference not in by_status


def test_request_list_query_count_is_constant(make_request, officer_client, django_assert_max_num_queries):
    for _ in range(3):
        make_request(validate=False)
    with django_assert_max_num_queries(12) as few:
        officer_client.get(reverse("portal:request_list"))
    for _ in range(5):
        make_request(validate=False)
    with django_assert_max_num_queries(len(few.captured_queries)):
        officer_client.get(reverse("portal:request_list"))
