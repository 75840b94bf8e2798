"""The original upload is evidence; downloads are audited and bound to the authority
(issue 15 items 1 and 5; issue 14 item 7)."""

from __future__ import annotations

import hashlib
import io

import pikepdf
import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from audit.models import AuditEvent
from requests_app.models import Attachment, LegalRequest

from .helpers import detail_url, pdf_bytes, upload

pytestmark = pytest.mark.django_db

ADMIN_CHANGELIST = "/admin/requests_app/attachment/"


def attachments_url(reference: str) -> str:
    return f"{detail_url(reference)}attachments/"


def javascript_link_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 10, 10],
                              A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("javascript:alert(1)")))
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(link)])
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def post(client, reference: str, data: bytes) -> int:
    response = client.post(attachments_url(reference), {"file": upload(data, "order.pdf")}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_a_download_serves_the_checked_copy_never_the_original(api, officer, own_request):
    original = javascript_link_pdf()
    attachment_id = post(api, own_request.reference, original)

    response = api.get(f"{attachments_url(own_request.reference)}{attachment_id}/")

    assert response.status_code == 200
    served = b"".join(response.streaming_content)
    assert served != original
    assert b"javascript:" not in served
    attachment = Attachment.objects.get(pk=attachment_id)
    assert hashlib.sha256(served).hexdigest() == attachment.sha256
    assert attachment.original_sha256 == hashlib.sha256(original).hexdigest()
    assert (response["X-Content-Type-Options"], response["Cache-Control"]) == ("nosniff", "no-store")
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["Content-Disposition"].startswith("attachment;")
    event = AuditEvent.objects.get(action="attachment.downloaded")
    assert (event.actor_id, event.object_id, event.data["sha256"]) == (officer.pk, str(attachment_id),
                                                                      attachment.sha256)


def test_another_authoritys_document_under_an_own_reference_is_404_and_audited(api, officer, own_request,
                                                                                other_api, submit):
    theirs = LegalRequest.objects.get(reference=submit(client=other_api)["reference"])
    their_attachment = post(other_api, theirs.reference, pdf_bytes())

    response = api.get(f"{attachments_url(own_request.reference)}{their_attachment}/")

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="attachment.downloaded").exists()
    denied = AuditEvent.objects.get(action="access.denied")
    assert (denied.actor_id, denied.request_id, denied.object_id) == (officer.pk, theirs.pk, str(their_attachment))


def test_only_the_legal_administrator_exports_the_original_and_it_is_audited(api, own_request, legal_admin,
                                                                              reviewer):
    from requests_app.services.attachments import attachment_export_original
    from requests_app.services.errors import InvalidState

    original = javascript_link_pdf()
    attachment = Attachment.objects.get(pk=post(api, own_request.reference, original))

    with pytest.raises(PermissionDenied):
        attachment_export_original(actor=reviewer, attachment=attachment, reason="curious")
    assert AuditEvent.objects.get(action="access.denied").actor_id == reviewer.pk
    with pytest.raises(InvalidState):
        attachment_export_original(actor=legal_admin, attachment=attachment, reason="  ")
    assert not AuditEvent.objects.filter(action="attachment.original_exported").exists()

    exported = attachment_export_original(actor=legal_admin, attachment=attachment, reason="court order 17/2026")

    assert exported == original
    event = AuditEvent.objects.get(action="attachment.original_exported")
    assert (event.actor_id, event.data["original_sha256"], event.data["reason"]) == (
        legal_admin.pk, attachment.original_sha256, "court order 17/2026")


def test_the_admin_export_action_asks_why_and_is_for_the_legal_administrator_only(api, own_request, legal_admin,
                                                                                  reviewer):
    original = javascript_link_pdf()
    attachment_id = post(api, own_request.reference, original)
    form = {"action": "export_original", "_selected_action": [str(attachment_id)]}

    as_reviewer = Client()
    as_reviewer.force_login(reviewer, backend="django.contrib.auth.backends.ModelBackend")
    listing = as_reviewer.get(ADMIN_CHANGELIST)
    assert listing.status_code == 200 and b"export_original" not in listing.content
    refused = as_reviewer.post(ADMIN_CHANGELIST, {**form, "reason": "curious"})
    assert original not in refused.content
    assert not AuditEvent.objects.filter(action="attachment.original_exported").exists()

    as_admin = Client()
    as_admin.force_login(legal_admin, backend="django.contrib.auth.backends.ModelBackend")
    asked = as_admin.post(ADMIN_CHANGELIST, form)
    assert asked.status_code == 200 and b'name="reason"' in asked.content
    assert not AuditEvent.objects.filter(action="attachment.original_exported").exists()

    exported = as_admin.post(ADMIN_CHANGELIST, {**form, "reason": "prosecutor's request"})

    assert exported.status_code == 200
    assert exported.content == original
    assert exported["Content-Disposition"].startswith("attachment;")
    assert exported["Content-Type"] == "application/octet-stream"
    assert "no-store" in exported["Cache-Control"]
    assert AuditEvent.objects.get(action="attachment.original_exported").actor_id == legal_admin.pk


def test_what_was_removed_is_listed_for_the_officer_and_the_legal_team(api, own_request, officer, legal_admin):
    post(api, own_request.reference, javascript_link_pdf())
    attachment = Attachment.objects.get()
    assert attachment.removed == {"uri_javascript": 1}
    assert api.get(attachments_url(own_request.reference)).json()[0]["removed"] == {"uri_javascript": 1}

    as_admin = Client()
    as_admin.force_login(legal_admin, backend="django.contrib.auth.backends.ModelBackend")
    page = as_admin.get(f"/admin/requests_app/legalrequest/{own_request.pk}/change/")
    assert page.status_code == 200
    assert b"uri_javascript (1)" in page.content
    assert attachment.original_sha256.encode() in page.content


def test_rotate_response_keys_re_encrypts_the_originals(api, own_request, legal_admin, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from requests_app.services.attachments import attachment_export_original

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.RESPONSE_ENCRYPTION_KEYS = [old]
    original = pdf_bytes()
    attachment = Attachment.objects.get(pk=post(api, own_request.reference, original))
    settings.RESPONSE_ENCRYPTION_KEYS = [new, old]

    call_command("rotate_response_keys", stdout=io.StringIO())

    settings.RESPONSE_ENCRYPTION_KEYS = [new]
    assert attachment_export_original(actor=legal_admin, attachment=attachment, reason="rotation check") == original
