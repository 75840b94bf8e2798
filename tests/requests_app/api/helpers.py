"""Helpers for the REST API tests: URLs, counting stored rows, making PDFs."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.models import Attachment, IdempotencyRecord, LegalRequest, Message, Target

API = "/api/v1/requests/"
MISSING_REFERENCE = "LRP-2099-999999"


def detail_url(reference: str) -> str:
    return f"{API}{reference}/"


def counts() -> dict[str, int]:
    """Rows a write could leave behind; compare before and after a refused call."""
    models = (LegalRequest, Target, AuditEvent, OutboxMessage, IdempotencyRecord, Attachment, Message)
    return {model.__name__: model.objects.count() for model in models}


def stored_files(root: Path) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()] if Path(root).exists() else []


def pdf_bytes(*, javascript: bool = False, encrypted: bool = False, pages: int = 1) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    if javascript:
        pdf.Root.OpenAction = pdf.make_indirect(
            pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')"))
        )
    buffer = io.BytesIO()
    if encrypted:
        pdf.save(buffer, encryption=pikepdf.Encryption(owner="owner-secret", user="user-secret"))
    else:
        pdf.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "signed order.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")
