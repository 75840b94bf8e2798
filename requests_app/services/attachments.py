"""Storing and serving uploaded PDFs (issue 15).

An upload is checked in the PDF sandbox (``uploads.check_upload``, a resource-limited
subprocess) before anything is written. Two files are then stored outside any web root under
random names:

* the **original**, exactly as uploaded: evidence. Encrypted at rest with the response keys
  (``crypto``), recorded with its SHA-256 and size and the verification of its signatures.
  It is never served; only the legal administrator exports it, on purpose
  (:func:`attachment_export_original`, audited).
* the **rewritten copy** the strict checks ran on: the only bytes ever served
  (:func:`attachment_open`, audited), with what the rewrite removed listed on the row.

A rejected file leaves no file and no row.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import transaction

from accounts.standing import require_standing
from audit import trail as audit

from .. import crypto
from ..access import visible_requests
from ..models import Attachment, AttachmentKind, LegalRequest
from ..permissions import is_legal_admin
from ..uploads import CheckedUpload, SandboxLimits, UploadRejected, check_upload
from ..workflow import lock_request
from .errors import InvalidState


def storage_path(stored_name: str) -> Path:
    return Path(settings.PRIVATE_STORAGE_ROOT) / "attachments" / stored_name[:2] / stored_name


def original_path(stored_name: str) -> Path:
    return Path(settings.PRIVATE_STORAGE_ROOT) / "originals" / stored_name[:2] / stored_name


def sandbox_limits() -> SandboxLimits:
    return SandboxLimits(
        max_objects=settings.UPLOAD_SANDBOX_MAX_OBJECTS,
        max_decoded_bytes=settings.UPLOAD_SANDBOX_MAX_DECODED_BYTES,
        memory_bytes=settings.UPLOAD_SANDBOX_MEMORY_BYTES,
        cpu_seconds=settings.UPLOAD_SANDBOX_CPU_SECONDS,
        wall_seconds=settings.UPLOAD_SANDBOX_WALL_SECONDS,
        trust_roots_file=settings.PADES_TRUST_ROOTS_FILE,
    )


def check_uploaded_pdf(data: bytes) -> CheckedUpload:
    """The upload check with the configured size limit and sandbox budget."""
    return check_upload(data, max_bytes=settings.UPLOAD_MAX_BYTES, limits=sandbox_limits())


def _safe_name(name: str) -> str:
    base = os.path.basename(name or "document.pdf").replace("\x00", "")
    cleaned = "".join(c for c in base if c.isprintable() and c not in '\\/:*?"<>|;')[:200].strip()
    return cleaned or "document.pdf"


def _read_limited(upload: IO[bytes], limit: int) -> bytes:
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    return data if isinstance(data, bytes) else bytes(data)


def attachment_add(*, actor: Any, request: LegalRequest, upload: Any, kind: str = AttachmentKind.ORDER,
                   ip_address: str | None = None, checked: CheckedUpload | None = None) -> Attachment:
    """Check (unless ``checked`` is the sandbox's verdict on these very bytes) and store."""
    require_standing(actor)
    if not request.is_open:
        raise InvalidState("Documents can no longer be added to a closed request.")
    data = _read_limited(upload, settings.UPLOAD_MAX_BYTES)
    if checked is not None and checked.original_sha256 != hashlib.sha256(data).hexdigest():
        checked = None
    try:
        checked = checked or check_uploaded_pdf(data)
    except UploadRejected as rejected:
        audit.record("attachment.rejected", actor=actor, request=request, ip_address=ip_address,
                     data={"code": rejected.code, "size": len(data),
                           "sha256": hashlib.sha256(data).hexdigest()})
        raise
    stored_name, original_name = uuid.uuid4().hex, uuid.uuid4().hex
    paths = [original_path(original_name), storage_path(stored_name)]
    try:
        crypto.write_encrypted(paths[0], data)
        crypto.write_private(paths[1], checked.clean)  # the rewritten copy that is served
        with transaction.atomic():
            # Lock order, as every writer of a request: the request row, then its rows, then its
            # audit chain head. The attachment's foreign key is checked at COMMIT (deferred), so
            # without this lock an upload took the chain head before the request row, and a
            # transition (request row, then chain head) at that moment deadlocked with it.
            locked = lock_request(request)
            if not locked.is_open:  # checked again under the lock: a withdrawal may have won
                raise InvalidState("Documents can no longer be added to a closed request.")
            attachment = Attachment.objects.create(
                request=locked, kind=kind, original_name=_safe_name(getattr(upload, "name", "")),
                stored_name=stored_name, sha256=checked.sha256, size=checked.size,
                page_count=checked.page_count, uploaded_by=actor,
                original_stored_name=original_name, original_sha256=checked.original_sha256,
                original_size=checked.original_size, removed=checked.removed, signatures=checked.signatures,
            )
            audit.record("attachment.added", actor=actor, request=locked, obj=attachment, ip_address=ip_address,
                         data={"sha256": checked.sha256, "size": checked.size, "kind": kind,
                               "original_sha256": checked.original_sha256,
                               "original_size": checked.original_size,
                               "removed": checked.removed,
                               "signatures_valid": [bool(s.get("valid")) for s in checked.signatures]})
    except Exception:
        for path in paths:
            path.unlink(missing_ok=True)
        raise
    return attachment


def attachment_find(*, actor: Any, request: LegalRequest, attachment_id: int,
                    ip_address: str | None = None) -> Attachment | None:
    """The document ``attachment_id`` of ``request`` (which the caller may see), or ``None``.

    An id that belongs to another request is a probe of another request's document: it is
    answered the same way as an unknown id (404) and recorded as ``access.denied``.
    """
    attachment = Attachment.objects.filter(request=request, pk=attachment_id).select_related("request").first()
    if attachment is not None:
        return attachment
    other = Attachment.objects.filter(pk=attachment_id).select_related("request").only(
        "pk", "request__id", "request__authority_id").first()
    if other is not None:
        audit.record("access.denied", actor=actor, request=other.request, obj=other, ip_address=ip_address,
                     data={"attachment_id": attachment_id, "via_reference": request.reference,
                           "reason": "attachment_of_another_request"})
    return None


def attachment_open(*, actor: Any, attachment: Attachment, ip_address: str | None = None) -> IO[bytes]:
    """Open the served (rewritten) copy for download; every download is an audit event."""
    require_standing(actor)
    handle = storage_path(attachment.stored_name).open("rb")
    audit.record("attachment.downloaded", actor=actor, request=attachment.request, obj=attachment,
                 ip_address=ip_address, data={"sha256": attachment.sha256})
    return handle


def attachment_export_original(*, actor: Any, attachment: Attachment, reason: str,
                               ip_address: str | None = None) -> bytes:
    """The original as uploaded (evidence), for the legal administrator only; audited.

    The bytes are checked against the SHA-256 recorded at upload before they leave.
    """
    if not is_legal_admin(actor):
        audit.record("access.denied", actor=actor, request=attachment.request, obj=attachment,
                     ip_address=ip_address, data={"reason": "original_export_not_legal_admin"})
        raise PermissionDenied("Only the legal administrator exports an original.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidState("Say why the original is exported.")
    if not attachment.original_stored_name:
        raise InvalidState("This document was stored before originals were kept.")
    data = crypto.decrypt(original_path(attachment.original_stored_name).read_bytes())
    digest = hashlib.sha256(data).hexdigest()
    if digest != attachment.original_sha256:
        raise InvalidState("The stored original does not match its recorded SHA-256.")
    audit.record("attachment.original_exported", actor=actor, request=attachment.request, obj=attachment,
                 ip_address=ip_address, data={"original_sha256": digest, "reason": reason[:500]})
    return data



_LINK_SALT = "requests_app.attachment-link"


def attachment_link_token(*, actor: Any, attachment: Attachment) -> str:
    """A signed, short-lived token for the cookieless download origin (``ATTACHMENT_DOWNLOAD_ORIGIN``)."""
    return signing.dumps({"a": attachment.pk, "u": actor.pk}, salt=_LINK_SALT, compress=False)


def attachment_from_link(token: str) -> tuple[Any, Attachment] | None:
    """The (user, attachment) of a valid, unexpired token whose user may still see the request."""
    from django.contrib.auth import get_user_model

    try:
        payload = signing.loads(token, salt=_LINK_SALT, max_age=settings.ATTACHMENT_LINK_SECONDS)
        user = get_user_model().objects.get(pk=int(payload["u"]))
        attachment = Attachment.objects.select_related("request").get(pk=int(payload["a"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError, ObjectDoesNotExist):
        return None
    if not visible_requests(user).filter(pk=attachment.request_id).exists():
        return None
    return user, attachment


def rotate_original_keys(*, from_secret_key: bool = False) -> int:
    """Re-encrypt every stored original with the newest response key (``rotate_response_keys``;
    ``from_secret_key`` as in ``delivery.rotate_keys``)."""
    names = Attachment.objects.exclude(original_stored_name="").values_list("original_stored_name", flat=True)
    return crypto.rotate_files((original_path(n) for n in names), accept_derived=from_secret_key)
