"""Uploading and downloading PDFs through the API (security.md §1.5; uploads.check_upload, issue 15)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pikepdf
import pytest
from django.conf import settings

from audit.models import AuditEvent
from requests_app import crypto
from requests_app.models import Attachment, LegalRequest
from requests_app.services.attachments import original_path, storage_path

from .helpers import MISSING_REFERENCE, counts, detail_url, pdf_bytes, stored_files, upload

pytestmark = pytest.mark.django_db


def attachments_url(reference: str) -> str:
    return f"{detail_url(reference)}attachments/"


def post_file(client, reference: str, data: bytes, name: str = "Order 2026-17.pdf", **extra):
    return client.post(attachments_url(reference), {"file": upload(data, name), **extra}, format="multipart")


def test_a_clean_pdf_is_stored_under_a_generated_name(api, officer, own_request):
    data = pdf_bytes(pages=2)
    response = post_file(api, own_request.reference, data, kind="order")

    assert response.status_code == 201, response.content
    body = response.json()
    digest = hashlib.sha256(data).hexdigest()
    assert (body["original_sha256"], body["original_size"], body["page_count"], body["kind"]) == (
        digest, len(data), 2, "order")
    assert body["original_name"] == "Order 2026-17.pdf"

    attachment = Attachment.objects.get(pk=body["id"])
    assert (attachment.request_id, attachment.uploaded_by_id) == (own_request.pk, officer.pk)
    path = storage_path(attachment.stored_name)
    original = original_path(attachment.original_stored_name)
    assert path.is_file() and original.is_file()
    assert Path(settings.PRIVATE_STORAGE_ROOT) in path.parents
    for stored in (path, original):
        assert "Order" not in stored.name and not stored.name.endswith(".pdf")
        assert stored.stat().st_mode & 0o077 == 0  # readable by the service account only
    assert sorted(stored_files(settings.PRIVATE_STORAGE_ROOT)) == sorted([path, original])
    assert crypto.decrypt(original.read_bytes()) == data  # the evidence, encrypted at rest
    assert data not in original.read_bytes()
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size) == (body["sha256"], body["size"])
    with pikepdf.open(path) as served:
        assert len(served.pages) == 2
    event = AuditEvent.objects.get(action="attachment.added")
    assert (event.request_id, event.actor_id, event.data["original_sha256"], event.data["sha256"]) == (
        own_request.pk, officer.pk, digest, body["sha256"])


@pytest.mark.parametrize("name", ["../../etc/passwd", "..\\..\\evil.pdf", "a/b/c.pdf", "<script>.pdf"])
def test_the_client_file_name_never_reaches_the_file_system(name, api, own_request):
    response = post_file(api, own_request.reference, pdf_bytes(), name=name)
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get()
    assert "/" not in attachment.original_name and "\\" not in attachment.original_name
    assert "<" not in attachment.original_name
    assert sorted(stored_files(settings.PRIVATE_STORAGE_ROOT)) == sorted(
        [storage_path(attachment.stored_name), original_path(attachment.original_stored_name)])


def test_download_returns_the_bytes_with_safe_headers_and_is_audited(api, officer, own_request):
    data = pdf_bytes()
    attachment_id = post_file(api, own_request.reference, data).json()["id"]

    response = api.get(f"{attachments_url(own_request.reference)}{attachment_id}/")

    assert response.status_code == 200
    served = b"".join(response.streaming_content)
    assert hashlib.sha256(served).hexdigest() == Attachment.objects.get(pk=attachment_id).sha256
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Order 2026-17.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="attachment.downloaded")
    assert (event.request_id, event.actor_id, event.object_id) == (own_request.pk, officer.pk, str(attachment_id))


def test_download_of_an_unknown_attachment_id_is_404(api, own_request, other_api, submit):
    theirs = LegalRequest.objects.get(reference=submit(client=other_api)["reference"])
    their_attachment = post_file(other_api, theirs.reference, pdf_bytes()).json()["id"]
    # Their attachment id under my own reference: not mine, not found, nothing served.
    response = api.get(f"{attachments_url(own_request.reference)}{their_attachment}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not AuditEvent.objects.filter(action="attachment.downloaded").exists()


def _trailing(data: bytes) -> bytes:
    return data + b"\nThis text hides after the end of the PDF.\n"


def _zip_polyglot(data: bytes) -> bytes:
    return data + b"PK\x03\x04\x14\x00\x00\x00\x08\x00payload.exe"


def _html_polyglot(data: bytes) -> bytes:
    return b"%PDF-1.7\n<html><svg onload=alert(1)>\n" + data[len(b"%PDF-1.7\n"):]


REJECTIONS = {
    "not_pdf": (lambda: b"MZ\x90\x00 this is an executable, named .pdf", "not_pdf"),
    "text_named_pdf": (lambda: b"Dear provider, please send everything.\n", "not_pdf"),
    "encrypted": (lambda: pdf_bytes(encrypted=True), "encrypted_pdf"),
    "html_polyglot": (lambda: _html_polyglot(pdf_bytes()), "polyglot"),
}

# Normalised rather than refused: the served copy no longer has the hostile part.
SANITISED = {
    "javascript": (lambda: pdf_bytes(javascript=True), "open_action"),
    "trailing_data": (lambda: _trailing(pdf_bytes()), "trailing_data"),
    "zip_polyglot": (lambda: _zip_polyglot(pdf_bytes()), "trailing_data"),
}


@pytest.mark.parametrize("case", SANITISED)
def test_a_hostile_upload_is_201_and_served_without_the_hostile_part(case, api, own_request):
    make, removed = SANITISED[case]
    data = make()
    body = post_file(api, own_request.reference, data).json()
    assert removed in body["removed"]
    assert body["original_sha256"] == hashlib.sha256(data).hexdigest()
    served = storage_path(Attachment.objects.get(pk=body["id"]).stored_name).read_bytes()
    assert b"JavaScript" not in served and b"PK\x03\x04" not in served and b"hides after" not in served


@pytest.mark.parametrize("case", REJECTIONS)
def test_a_rejected_upload_is_400_with_the_uploads_code_and_leaves_no_file_and_no_row(case, api, officer,
                                                                                       own_request):
    make, code = REJECTIONS[case]
    before = counts()
    response = post_file(api, own_request.reference, make())

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert "file" in error["fields"]
    rejected = AuditEvent.objects.get(action="attachment.rejected")
    assert (rejected.request_id, rejected.actor_id, rejected.data["code"]) == (own_request.pk, officer.pk, code)
    assert not Attachment.objects.exists()
    assert stored_files(settings.PRIVATE_STORAGE_ROOT) == []
    assert counts()["Attachment"] == before["Attachment"]


def test_a_file_over_the_size_limit_is_too_large(api, settings, own_request):
    data = pdf_bytes()
    settings.UPLOAD_MAX_BYTES = len(data) - 1
    response = post_file(api, own_request.reference, data)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_large"
    assert not Attachment.objects.exists()
    assert stored_files(settings.PRIVATE_STORAGE_ROOT) == []

    settings.UPLOAD_MAX_BYTES = len(data)
    assert post_file(api, own_request.reference, data).status_code == 201


BAD_FORMS = {
    "no_file": (lambda: {}, "file"),
    "file_is_a_string": (lambda: {"file": "not a file"}, "file"),
    "empty_file": (lambda: {"file": upload(b"")}, "file"),  # DRF's FileField refuses it before inspection
    "unknown_kind": (lambda: {"file": upload(pdf_bytes()), "kind": "selfie"}, "kind"),
}


@pytest.mark.parametrize("case", BAD_FORMS)
def test_a_bad_upload_form_is_400_validation_error(case, api, own_request):
    make, field = BAD_FORMS[case]
    before = counts()
    response = api.post(attachments_url(own_request.reference), make(), format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["fields"]
    assert counts() == before
    assert stored_files(settings.PRIVATE_STORAGE_ROOT) == []


def test_a_json_upload_is_415_unsupported_media_type(api, own_request):
    response = api.post(attachments_url(own_request.reference), {"file": "JVBERi0="}, format="json")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert not Attachment.objects.exists()


def test_another_authority_cannot_upload_list_or_download(other_api, other_officer, api, own_request):
    attachment_id = post_file(api, own_request.reference, pdf_bytes()).json()["id"]
    files_before = stored_files(settings.PRIVATE_STORAGE_ROOT)
    missing = post_file(other_api, MISSING_REFERENCE, pdf_bytes())

    responses = [
        post_file(other_api, own_request.reference, pdf_bytes()),
        other_api.get(attachments_url(own_request.reference)),
        other_api.get(f"{attachments_url(own_request.reference)}{attachment_id}/"),
    ]

    for response in responses:
        assert response.status_code == 404
        assert response.json() == missing.json()
    assert list(Attachment.objects.values_list("pk", flat=True)) == [attachment_id]
    assert stored_files(settings.PRIVATE_STORAGE_ROOT) == files_before
    assert AuditEvent.objects.filter(action="access.denied", actor_id=other_officer.pk).count() == 3
    assert not AuditEvent.objects.filter(action__in=["attachment.downloaded", "attachment.rejected"]).exists()


def test_no_attachment_can_be_added_to_a_withdrawn_request(api, own_request):
    assert api.post(f"{detail_url(own_request.reference)}withdraw/", {}, format="json").status_code == 200
    before = counts()
    response = post_file(api, own_request.reference, pdf_bytes())
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_state"
    assert counts() == before
    assert stored_files(settings.PRIVATE_STORAGE_ROOT) == []
