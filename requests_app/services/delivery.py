"""Delivering produced data inside the portal only.

The legal team uploads the package (files and a cover note); each file is encrypted at rest
(``requests_app.crypto``) and its plaintext SHA-256 recorded. After the four-eyes approval
the package is released: the authority may download it during ``RESPONSE_AVAILABLE_DAYS``,
each download an audit event. After ``RESPONSE_RETENTION_DAYS`` the encrypted payload is
deleted; the metadata and the audit trail stay.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.standing import require_standing
from audit import trail as audit
from outbox import relay as outbox

from .. import crypto, timers
from ..models import LegalRequest, ResponseFile, ResponsePackage
from ..permissions import require
from ..states import Status
from ..workflow import TransitionGuardFailed, TransitionNotAllowed, is_locked, lock_request, transition
from .attachments import _safe_name
from .errors import InvalidState, ServiceError

PREPARABLE = {Status.IN_REVIEW, Status.AWAITING_ENFORCING_AUTHORITY, Status.OBJECTION_FILED}


def response_path(stored_name: str) -> Path:
    return Path(settings.PRIVATE_STORAGE_ROOT) / "responses" / stored_name[:2] / stored_name


def _write_encrypted(data: bytes) -> str:
    stored_name = uuid.uuid4().hex
    crypto.write_encrypted(response_path(stored_name), data)
    return stored_name


def response_prepare(*, actor: Any, request: LegalRequest, files: list[Any], cover_note: str = "") -> ResponsePackage:
    """Store the response package, encrypted, awaiting a second person's approval."""
    require(actor, "prepare_response", request)
    if not files and not cover_note.strip():
        raise ServiceError("A response needs at least one file or a cover note.")
    written: list[str] = []
    try:
        with transaction.atomic():
            locked = LegalRequest.objects.select_for_update().get(pk=request.pk)
            if locked.status not in PREPARABLE:
                raise InvalidState("A response can be prepared only while the request is under review.")
            # A new package replaces an unapproved draft, whose encrypted files are deleted once
            # this commits (produced data must not outlive its use: GDPR Art. 5(1)(e)).
            replaced = ResponsePackage.objects.filter(request=locked, approval__isnull=True,
                                                      released_at__isnull=True, purged_at__isnull=True)
            replaced_names = list(ResponseFile.objects.filter(package__in=replaced)
                                  .values_list("stored_name", flat=True))
            replaced.update(purged_at=timezone.now())
            if replaced_names:
                transaction.on_commit(lambda: _unlink_all(replaced_names))
            package = ResponsePackage.objects.create(request=locked, prepared_by=actor, cover_note=cover_note.strip())
            manifest = []
            for upload in files:
                data = upload.read(settings.RESPONSE_MAX_BYTES + 1)
                if len(data) > settings.RESPONSE_MAX_BYTES:
                    raise ServiceError(f"{upload.name} exceeds the response size limit.", code="too_large")
                stored = _write_encrypted(data)
                written.append(stored)
                item = ResponseFile.objects.create(
                    package=package, original_name=_safe_name(upload.name), stored_name=stored,
                    sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                    content_type=getattr(upload, "content_type", None) or "application/octet-stream",
                )
                manifest.append({"name": item.original_name, "sha256": item.sha256, "size": item.size})
            audit.record("response.prepared", actor=actor, request=locked, obj=package,
                         authority_id=locked.authority_id, data={"files": manifest})
            outbox.enqueue("notify.approval_needed", request=locked,
                           payload={"package_id": package.pk, "actor_id": actor.pk})
    except Exception:
        for stored in written:
            response_path(stored).unlink(missing_ok=True)
        raise
    return package


def response_release(*, actor: Any, request: LegalRequest) -> ResponsePackage:
    """Make the approved package available to the authority (approved → produced).

    Called by ``review_approve`` right after the approval, or later by an approver when a
    hold (the enforcing authority's window) delayed the release.
    """
    require(actor, "approve", request)
    with transaction.atomic():
        # review_approve passes the row it holds locked: one lock per operation.
        locked = request if is_locked(request) else lock_request(request)
        package = (
            ResponsePackage.objects.select_for_update()
            .filter(request=locked, approval__isnull=False, released_at__isnull=True, purged_at__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        if package is None or locked.status != Status.APPROVED:
            raise InvalidState("There is no approved response waiting for release.")
        now = timezone.now()
        if locked.hold_until and now < locked.hold_until:
            raise InvalidState(f"The data may not be released before {locked.hold_until:%Y-%m-%d %H:%M} UTC.")
        package.released_at = now
        package.available_until = now + timedelta(days=settings.RESPONSE_AVAILABLE_DAYS)
        package.save(update_fields=["released_at", "available_until"])
        try:
            transition(locked, Status.PRODUCED, actor=actor, reason="response released", resolution="produced")
        except (TransitionNotAllowed, TransitionGuardFailed) as exc:
            raise InvalidState(str(exc)) from exc
        timers.cancel(locked)
        timers.schedule(locked, timers.TimerKind.RESPONSE_PURGE, now + timedelta(days=settings.RESPONSE_RETENTION_DAYS),
                        payload={"package_id": package.pk})
        audit.record("response.released", actor=actor, request=locked, obj=package, authority_id=locked.authority_id,
                     data={"available_until": package.available_until})
        outbox.enqueue("notify.response_ready", request=locked, payload={"package_id": package.pk})
    return package


def released_package(request: LegalRequest) -> ResponsePackage | None:
    return (
        ResponsePackage.objects.filter(request=request, released_at__isnull=False)
        .prefetch_related("files")
        .order_by("-released_at", "-pk")
        .first()
    )


def response_file_read(*, actor: Any, request: LegalRequest, file_id: int, ip_address: str | None = None) -> tuple[
    ResponseFile, bytes
]:
    """Decrypt one file for the requesting authority; every download is audited."""
    require_standing(actor)
    package = released_package(request)
    if package is None:
        raise ServiceError("No response has been released for this request.", code="not_found")
    if not package.is_downloadable():
        audit.record("response.download_refused", actor=actor, request=request, obj=package,
                     ip_address=ip_address, data={"reason": "expired" if package.purged_at is None else "purged"})
        raise ServiceError("The response is no longer available for download.", code="response_expired")
    item = package.files.filter(pk=file_id).first()
    if item is None:
        raise ServiceError("No such file in the response.", code="not_found")
    data = crypto.decrypt(response_path(item.stored_name).read_bytes())
    if hashlib.sha256(data).hexdigest() != item.sha256:
        raise ServiceError("The stored file failed its integrity check; the legal team has been alerted.",
                           code="integrity_error")
    audit.record("response.downloaded", actor=actor, request=request, obj=item, ip_address=ip_address,
                 data={"sha256": item.sha256, "size": item.size})
    return item, data


def response_purge(*, package: ResponsePackage) -> int:
    """Delete the encrypted payload after retention; metadata and audit stay."""
    if package.purged_at is not None:
        return 0
    with transaction.atomic():
        locked = ResponsePackage.objects.select_for_update().get(pk=package.pk)
        if locked.purged_at is not None:
            return 0
        names = list(locked.files.values_list("stored_name", flat=True))
        locked.purged_at = timezone.now()
        locked.save(update_fields=["purged_at"])
        audit.record("response.purged", request=locked.request, obj=locked,
                     authority_id=locked.request.authority_id, data={"files": len(names)})
        transaction.on_commit(lambda: _unlink_all(names))
    return len(names)


def _unlink_all(names: list[str]) -> None:
    for name in names:
        response_path(name).unlink(missing_ok=True)


def pending_package(request: LegalRequest) -> ResponsePackage | None:
    """The newest draft awaiting a second person (the one an approval must name)."""
    return (ResponsePackage.objects.filter(request=request, approval__isnull=True, released_at__isnull=True,
                                           purged_at__isnull=True)
            .select_related("prepared_by").order_by("-created_at", "-pk").first())


def package_digests(package: ResponsePackage) -> list[str]:
    """What an approver saw of a package: the SHA-256 of each file, in a stable order."""
    return sorted(package.files.values_list("sha256", flat=True))


def draft_file_read(*, actor: Any, request: LegalRequest, file_id: int, ip_address: str | None = None) -> tuple[
    ResponseFile, bytes
]:
    """The legal team opens a file of a package not yet released, so that the approver checks
    what they approve (four eyes bound to the object seen). Every opening is audited."""
    require(actor, "prepare_response", request)
    item = (ResponseFile.objects.select_related("package")
            .filter(pk=file_id, package__request=request, package__released_at__isnull=True,
                    package__purged_at__isnull=True).first())
    if item is None:
        raise ServiceError("No such file in a prepared response of this request.", code="not_found")
    data = crypto.decrypt(response_path(item.stored_name).read_bytes())
    if hashlib.sha256(data).hexdigest() != item.sha256:
        raise ServiceError("The stored file failed its integrity check.", code="integrity_error")
    audit.record("response.draft_viewed", actor=actor, request=request, obj=item, ip_address=ip_address,
                 authority_id=request.authority_id,
                 data={"package_id": item.package_id, "sha256": item.sha256, "size": item.size})
    return item, data


def rotate_keys(*, from_secret_key: bool = False) -> int:
    """Re-encrypt every stored response file with the newest key (MultiFernet.rotate).

    ``from_secret_key``: files encrypted with the key derived from SECRET_KEY (an installation
    that ran without RESPONSE_ENCRYPTION_KEYS) are decrypted with it during this run.
    """
    names = ResponseFile.objects.filter(package__purged_at__isnull=True).values_list("stored_name", flat=True)
    return crypto.rotate_files((response_path(n) for n in names.iterator()), accept_derived=from_secret_key)
