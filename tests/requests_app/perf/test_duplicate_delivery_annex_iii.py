"""The automatic clarification's Annex III (Reg. (EU) 2023/1543 Art. 10(6)) is written once
however often the validation task arrives: a copy delivered while the first validates, and
one delivered after it decided, write no second form and queue no second copy for the
enforcing authority (tests/notifications/test_automatic_clarification_annex_iii.py sends it
through a real SMTP server). The copy delivered meanwhile waits for the first delivery's row
lock (claim and decision in one transaction) and then finds the request decided."""

from __future__ import annotations

import pytest
from django.db import connection

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.models import AnnexIII, LegalRequest
from requests_app.services import validation
from requests_app.services.submission import request_submit
from requests_app.states import Status
from tests.conftest import validated

from .test_duplicate_delivery import delivered_again_waiting, held_in_assessment

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections at once: PostgreSQL"),
]

EA = "epoc.notifications@parquet.example.be"
JUDGE = {"authority_type": "investigating_judge", "authority_name": "Juge d'instruction de Paris",
         "reference": "JI-2026-1", "date": "2026-08-20"}


def test_a_copy_delivered_while_the_first_validates_writes_no_second_annex_iii(monkeypatch, no_publish, officer):
    request, _ = request_submit(actor=officer, data=validated(
        data_categories=["traffic"], validation=JUDGE, enforcing_authority_notified=True,
        enforcing_authority_email=EA, targets=[{"kind": "ip_address", "value": "203.0.113.7"}]))
    thread, first, release = held_in_assessment(monkeypatch, request.pk)
    try:
        copy, second = delivered_again_waiting(request.pk)  # delivered again meanwhile
    finally:
        release.set()
        thread.join(timeout=30)
    copy.join(timeout=30)
    assert "error" not in first and "error" not in second, (first, second)
    assert second["result"] is None
    assert validation.request_validate(request_id=request.pk) is None  # and once more afterwards
    assert LegalRequest.objects.get(pk=request.pk).status == Status.CLARIFICATION_REQUESTED
    assert AnnexIII.objects.filter(request_id=request.pk).count() == 1
    copies = OutboxMessage.objects.filter(request_id=request.pk, topic="notify.annex_iii_enforcing_authority")
    assert copies.count() == 1
    assert AuditEvent.objects.filter(request_id=request.pk, action="annex_iii.enforcing_authority_copy").count() == 1
