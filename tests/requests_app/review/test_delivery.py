"""Delivery inside the portal (security.md §1.6 R6): encrypted at rest, key rotation, availability
window, retention purge, and access only for the requesting authority."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from audit.models import AuditEvent
from requests_app import crypto
from requests_app.models import ResponseFile
from requests_app.services import delivery, review
from requests_app.timers import fire_due
from tests.conftest import approve_seen

from .conftest import PAYLOAD, PAYLOAD_SHA256, last_seq, upload

pytestmark = pytest.mark.django_db

API = "/api/v1/requests/"


@pytest.fixture
def keys(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.RESPONSE_ENCRYPTION_KEYS = [old]
    return old, new


@pytest.fixture
def produced(submit, reviewer, approver, keys):
    request = submit()
    package = delivery.response_prepare(actor=reviewer, request=request, files=[upload()], cover_note="Data.")
    approve_seen(actor=approver, request=request)
    request.refresh_from_db()
    package.refresh_from_db()
    return request, package, package.files.get()


def file_url(request, item) -> str:
    return f"{API}{request.reference}/response/files/{item.pk}/"


def test_files_are_encrypted_at_rest(produced):
    _, _, item = produced
    stored = delivery.response_path(item.stored_name).read_bytes()
    assert stored != PAYLOAD and PAYLOAD not in stored and b"suspect_account" not in stored
    assert crypto.decrypt(stored) == PAYLOAD
    assert item.sha256 == PAYLOAD_SHA256 and item.size == len(PAYLOAD)
    assert oct(delivery.response_path(item.stored_name).stat().st_mode & 0o777) == "0o600"


def test_key_rotation_keeps_files_readable_with_the_new_key_only(produced, officer_api, settings, keys):
    request, _, item = produced
    old, new = keys
    before = delivery.response_path(item.stored_name).read_bytes()
    settings.RESPONSE_ENCRYPTION_KEYS = [new, old]
    assert delivery.rotate_keys() == 1
    after = delivery.response_path(item.stored_name).read_bytes()
    assert after != before
    assert Fernet(new.encode()).decrypt(after) == PAYLOAD
    with pytest.raises(InvalidToken):
        Fernet(old.encode()).decrypt(after)

    settings.RESPONSE_ENCRYPTION_KEYS = [new]
    response = officer_api.get(file_url(request, item))
    assert response.status_code == 200 and response.content == PAYLOAD


def test_a_replaced_draft_is_deleted_from_storage(submit, reviewer, reviewer2, approver, keys,
                                                  django_capture_on_commit_callbacks):
    """Issue 14 item 9: produced data of a draft nobody will release does not stay on disk."""
    request = submit()
    with django_capture_on_commit_callbacks(execute=True):
        old = delivery.response_prepare(actor=reviewer, request=request, files=[upload(b"old data")])
    old_path = delivery.response_path(old.files.get().stored_name)
    assert old_path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        new = delivery.response_prepare(actor=reviewer2, request=request, files=[upload(b"new data")])
    old.refresh_from_db()
    assert old.purged_at is not None
    assert not old_path.exists()
    assert ResponseFile.objects.filter(package=old).exists()  # the metadata stays, for the record
    assert delivery.response_path(new.files.get().stored_name).exists()


def test_an_installation_on_the_derived_key_migrates_with_from_secret_key(produced, officer_api, settings):
    """Files written without RESPONSE_ENCRYPTION_KEYS (key derived from SECRET_KEY) move to a real key."""
    from django.core.management import call_command

    request, _, item = produced
    path = delivery.response_path(item.stored_name)
    settings.RESPONSE_ENCRYPTION_KEYS = []
    path.write_bytes(crypto.encrypt(PAYLOAD))  # as the embedded default wrote it
    real = Fernet.generate_key().decode()
    settings.RESPONSE_ENCRYPTION_KEYS = [real]
    with pytest.raises(InvalidToken):
        crypto.decrypt(path.read_bytes())  # a configured key never falls back to the derived one
    call_command("rotate_response_keys", "--from-secret-key")
    assert Fernet(real.encode()).decrypt(path.read_bytes()) == PAYLOAD
    response = officer_api.get(file_url(request, item))
    assert response.status_code == 200 and response.content == PAYLOAD


def test_without_the_key_the_file_cannot_be_read(produced, settings):
    _, _, item = produced
    settings.RESPONSE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(InvalidToken):
        crypto.decrypt(delivery.response_path(item.stored_name).read_bytes())


def test_download_is_refused_after_the_availability_window(produced, officer_api, officer):
    request, package, item = produced
    assert package.available_until - package.released_at == timedelta(days=settings.RESPONSE_AVAILABLE_DAYS)
    with time_machine.travel(package.available_until - timedelta(minutes=1), tick=False):
        assert officer_api.get(file_url(request, item)).status_code == 200
    seq = last_seq()
    with time_machine.travel(package.available_until + timedelta(minutes=1), tick=False):
        response = officer_api.get(file_url(request, item))
        listing = officer_api.get(f"{API}{request.reference}/response/")
    assert response.status_code == 410 and response.json()["error"]["code"] == "response_expired"
    assert listing.status_code == 410
    events = AuditEvent.objects.filter(request_id=request.pk, seq__gt=seq)
    assert [(e.action, e.actor_id, e.data.get("reason")) for e in events] == [
        ("response.download_refused", officer.pk, "expired")]


def test_retention_purge_deletes_the_payload_and_keeps_metadata_and_audit(
        produced, officer_api, django_capture_on_commit_callbacks):
    request, package, item = produced
    officer_api.get(file_url(request, item))
    path = delivery.response_path(item.stored_name)
    assert path.exists()
    purge_at = package.released_at + timedelta(days=settings.RESPONSE_RETENTION_DAYS)
    with time_machine.travel(purge_at - timedelta(minutes=1), tick=False):
        fire_due()
    package.refresh_from_db()
    assert package.purged_at is None and path.exists()

    with time_machine.travel(purge_at + timedelta(minutes=1), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        fire_due()
        fire_due()
    package.refresh_from_db()
    assert package.purged_at is not None
    assert not path.exists()
    kept = ResponseFile.objects.get(pk=item.pk)
    assert (kept.sha256, kept.size, kept.original_name) == (PAYLOAD_SHA256, len(PAYLOAD), "subscriber.txt")
    trail = list(AuditEvent.objects.filter(request_id=request.pk).values_list("action", flat=True))
    assert trail.count("response.purged") == 1
    assert {"response.prepared", "response.approved", "response.released", "response.downloaded"} <= set(trail)
    response = officer_api.get(file_url(request, item))
    assert response.status_code == 410 and response.json()["error"]["code"] == "response_expired"


def test_purge_after_close_still_happens(produced, reviewer, django_capture_on_commit_callbacks):
    request, package, item = produced
    review.request_close(actor=reviewer, request=request)
    with time_machine.travel(package.released_at + timedelta(days=settings.RESPONSE_RETENTION_DAYS, hours=1),
                             tick=False), django_capture_on_commit_callbacks(execute=True):
        fire_due()
    package.refresh_from_db()
    assert package.purged_at is not None and not delivery.response_path(item.stored_name).exists()


def test_another_authority_gets_404(produced, other_api):
    request, _, item = produced
    seq = last_seq()
    assert other_api.get(f"{API}{request.reference}/response/").status_code == 404
    assert other_api.get(file_url(request, item)).status_code == 404
    actions = list(AuditEvent.objects.filter(seq__gt=seq).values_list("action", flat=True))
    assert actions == ["access.denied", "access.denied"]


def test_anonymous_gets_401(produced, anon_api):
    request, _, item = produced
    assert anon_api.get(f"{API}{request.reference}/response/").status_code == 401
    assert anon_api.get(file_url(request, item)).status_code == 401


def test_nothing_to_download_before_release(submit, reviewer, officer_api):
    request = submit()
    package = delivery.response_prepare(actor=reviewer, request=request, files=[upload()])
    item = package.files.get()
    assert officer_api.get(f"{API}{request.reference}/response/").status_code == 404
    assert officer_api.get(file_url(request, item)).status_code == 404
    assert not AuditEvent.objects.filter(action="response.downloaded").exists()


def test_a_tampered_file_fails_its_integrity_check(produced, officer_api):
    request, _, item = produced
    path = delivery.response_path(item.stored_name)
    path.write_bytes(crypto.encrypt(b"forged content"))
    response = officer_api.get(file_url(request, item))
    assert response.status_code == 500 and response.json()["error"]["code"] == "integrity_error"
    assert not AuditEvent.objects.filter(action="response.downloaded").exists()
