"""Document downloads on the web: the checked copy only, audited, bound to the authority, and
from a cookieless origin where one is configured (issue 15 item 5; issue 14 item 7)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from requests_app.models import Attachment
from tests.requests_app.api.helpers import pdf_bytes, upload

pytestmark = pytest.mark.django_db

FILES_HOST = "files.portal.test"


def url(name, legal_request, *args):
    return reverse(f"portal:{name}", args=[legal_request.reference, *args])


@pytest.fixture
def attachment(own_request, officer_client) -> Attachment:
    response = officer_client.post(url("attachment_upload", own_request),
                                   {"file": upload(pdf_bytes()), "kind": "other"})
    assert response.status_code == 302
    return Attachment.objects.get()


def test_a_document_of_another_authority_is_404_and_the_probe_audited(own_request, attachment, other_client,
                                                                      other_officer, make_request):
    assert other_client.get(url("attachment_download", own_request, attachment.pk)).status_code == 404
    theirs = make_request(other_officer)
    assert other_client.get(url("attachment_download", theirs, attachment.pk)).status_code == 404
    denied = AuditEvent.objects.filter(action="access.denied", actor_id=other_officer.pk)
    assert denied.count() == 2
    assert {e.request_id for e in denied} == {own_request.pk}
    assert not AuditEvent.objects.filter(action="attachment.downloaded").exists()


def test_with_a_cookieless_origin_the_portal_redirects_to_a_short_lived_signed_link(
        settings, own_request, attachment, officer_client, officer):
    settings.ATTACHMENT_DOWNLOAD_ORIGIN = f"https://{FILES_HOST}"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, FILES_HOST]

    redirect = officer_client.get(url("attachment_download", own_request, attachment.pk))

    assert redirect.status_code == 302
    link = redirect["Location"]
    assert link.startswith(f"https://{FILES_HOST}/files/")
    assert not AuditEvent.objects.filter(action="attachment.downloaded").exists()
    path = link.removeprefix(f"https://{FILES_HOST}")
    cookieless = Client()  # the files origin never sees the portal's session cookie
    assert officer_client.get(path, secure=True).status_code == 404  # not on the portal's own host

    served = cookieless.get(path, secure=True, HTTP_HOST=FILES_HOST)

    assert served.status_code == 200
    body = b"".join(served.streaming_content)
    assert hashlib.sha256(body).hexdigest() == attachment.sha256
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Cache-Control"] == "no-store"
    assert served["Content-Security-Policy"].startswith("sandbox")
    assert served["Content-Disposition"].startswith("attachment")
    assert "Set-Cookie" not in served
    event = AuditEvent.objects.get(action="attachment.downloaded")
    assert (event.actor_id, event.object_id) == (officer.pk, str(attachment.pk))

    assert cookieless.get(path + "x/", secure=True, HTTP_HOST=FILES_HOST).status_code == 404
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.ATTACHMENT_LINK_SECONDS + 1)):
        assert cookieless.get(path, secure=True, HTTP_HOST=FILES_HOST).status_code == 404
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    assert cookieless.get(path, secure=True, HTTP_HOST=FILES_HOST).status_code == 404
    assert AuditEvent.objects.filter(action="attachment.downloaded").count() == 1


def test_without_a_download_origin_the_files_view_serves_nothing(settings, own_request, attachment):
    settings.ATTACHMENT_DOWNLOAD_ORIGIN = ""
    assert Client().get(reverse("portal:attachment_file", args=["anything"])).status_code == 404
