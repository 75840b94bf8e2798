"""Personas and helpers for the legal-review behaviour tests.

The legal team: two reviewers, an approver, a second approver, an admin and a superuser, all
staff without an authority. Requests go through the real services: ``request_submit`` then
``request_validate`` run synchronously. Outbox rows are never published (they stay ``pending``
so the tests can count them); ``on_commit`` callbacks therefore only matter for file unlinks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.models import LegalRequest, Timer
from requests_app.services.submission import request_submit
from requests_app.services.validation import request_validate
from tests.conftest import client_for, epoc_body, staff, validated  # noqa: F401  (re-exported)

PAYLOAD = b"subscriber record: suspect_account, registered 2024-01-02, e-mail x@example.org\n"
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture(autouse=True)
def _outbox_stays_pending(no_publish):
    """Every test here: outbox rows stay pending (tests/conftest.py, ``no_publish``)."""


@pytest.fixture
def submit(officer) -> Callable[..., LegalRequest]:
    """Submit as ``actor`` (default: the French police officer) and validate synchronously."""

    def run(actor: Any = None, *, validate: bool = True, **overrides: Any) -> LegalRequest:
        request, created = request_submit(actor=actor or officer, data=validated(**overrides))
        assert created
        if validate:
            request_validate(request_id=request.pk)
        request.refresh_from_db()
        return request

    return run


def upload(data: bytes = PAYLOAD, name: str = "subscriber.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/plain")


def actions(request: LegalRequest, since: int = 0) -> list[str]:
    """The request's audit trail (action names in chain order), optionally after ``since`` (a seq)."""
    return list(AuditEvent.objects.filter(request_id=request.pk, seq__gt=since).order_by("seq")
                .values_list("action", flat=True))


def last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def topics(request: LegalRequest) -> list[str]:
    return list(OutboxMessage.objects.filter(request=request).order_by("id").values_list("topic", flat=True))


def open_timers(request: LegalRequest) -> dict[str, Any]:
    return dict(Timer.objects.filter(request=request, fired_at__isnull=True, cancelled_at__isnull=True)
                .values_list("kind", "due_at"))


def transitions(request: LegalRequest, since: int = 0) -> list[tuple[str, str]]:
    events = AuditEvent.objects.filter(request_id=request.pk, action="request.status_changed", seq__gt=since)
    return [(e.data["from"], e.data["to"]) for e in events.order_by("seq")]


@pytest.fixture
def officer_api(officer):
    return client_for(officer)
