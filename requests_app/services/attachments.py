"""Storing and serving uploaded PDFs.

Files are checked by content (``uploads.inspect_pdf``) before anything is written, stored
under a random name outside any web root, and recorded with their SHA-256 and size. A
rejected file leaves no file and no row.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction

from accounts.standing import require_standing

from .. import audit
from ..models import Attachment, AttachmentKind, LegalRequest
from ..uploads import UploadRejected, inspect_pdf
from .errors import InvalidState


def storage_path(stored_name: str) -> Path:
    return Path(settings.PRIVATE_STORAGE_ROOT) / "attachments" / stored_name[:2] / stored_name


def _safe_name(name: str) -> str:
    base = os.path.basename(name or "document.pdf").replace("\x00", "")
    cleaned = "".join(c for c in base if c.isprintable() and c not in '\\/:*?"<>|;')[:200].strip()
    return cleaned or "document.pdf"


def _read_limited(upload: IO[bytes], limit: int) -> bytes:
    data = upload.read(limit + 1)
    return data if isinstance(data, bytes) else bytes(data)


def attachment_add(*, actor: Any, request: LegalRequest, upload: Any, kind: str = AttachmentKind.ORDER,
                   ip_address: str | None = None) -> Attachment:
    require_standing(actor)
    if not request.is_open:
        raise InvalidState("Documents can no longer be added to a closed request.")
    limit = settings.UPLOAD_MAX_BYTES
    data = _read_limited(upload, limit)
    try:
        inspected = inspect_pdf(data, max_bytes=limit)
    except UploadRejected as rejected:
        audit.record("attachment.rejected", actor=actor, request=request, ip_address=ip_address,
                     data={"code": rejected.code, "size": len(data)})
        raise
    stored_name = uuid.uuid4().hex
    path = storage_path(stored_name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        with transaction.atomic():
            attachment = Attachment.objects.create(
                request=request, kind=kind, original_name=_safe_name(getattr(upload, "name", "")),
                stored_name=stored_name, sha256=inspected.sha256, size=inspected.size,
                page_count=inspected.page_count, uploaded_by=actor,
            )
            audit.record("attachment.added", actor=actor, request=request, obj=attachment, ip_address=ip_address,
                         data={"sha256": inspected.sha256, "size": inspected.size, "kind": kind})
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return attachment


def attachment_open(*, actor: Any, attachment: Attachment, ip_address: str | None = None) -> IO[bytes]:
    """Open a stored file for download; every download is an audit event."""
    require_standing(actor)
    handle = storage_path(attachment.stored_name).open("rb")
    audit.record("attachment.downloaded", actor=actor, request=attachment.request, obj=attachment,
                 ip_address=ip_address, data={"sha256": attachment.sha256})
    return handle
