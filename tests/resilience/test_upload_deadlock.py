"""Concurrent uploads on one request (issue 9 item 2; a deadlock seen once in production).

On 34d4ec4 ``attachment_add`` took the locks in the opposite order to every other writer of
a request. A transition locks the request row (``lock_request``, ``FOR UPDATE``) and then
the request's audit chain head (``audit.record``). An upload inserted the attachment, locked
the chain head to audit it, and only at COMMIT took its ``FOR KEY SHARE`` lock on the
request row: Django's foreign keys are ``DEFERRABLE INITIALLY DEFERRED``, so the referential
check runs at commit. An upload between its audit and its commit, and a transition that had
just locked the row (the officer's clarification answer, a legal-team action, the validation
task), each waited for the other: PostgreSQL broke the cycle by killing one of them
(``deadlock detected``). Now ``attachment_add`` locks the request row first (and checks
under that lock that the request is still open), then writes the attachment and its audit.

Real PostgreSQL, one connection per thread; the interleaving is forced: the upload is held
between its audit event and its commit until the other transaction is seen waiting on a
lock (``pg_stat_activity``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection

from audit.models import AuditEvent
from requests_app.models import Attachment, AttachmentKind, LegalRequest
from requests_app.services.attachments import attachment_add
from requests_app.services.submission import clarification_submit, request_submit
from requests_app.services.validation import request_validate
from requests_app.states import Status
from tests.conftest import validated
from tests.requests_app.api.helpers import pdf_bytes, upload

from .conftest import assert_books_balance

pytestmark = pytest.mark.django_db(transaction=True)

IP_WITHOUT_TIME = [{"kind": "ip_address", "value": "203.0.113.7"}]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def waiting_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


@pytest.fixture
def asking(no_publish, officer) -> LegalRequest:
    request, _ = request_submit(actor=officer, data=validated(targets=IP_WITHOUT_TIME))
    request_validate(request_id=request.pk)
    request.refresh_from_db()
    assert request.status == Status.CLARIFICATION_REQUESTED
    return request


class HeldAfterAudit:
    """``audit`` as ``attachments`` sees it: after the ``attachment.added`` event (the chain head
    locked, the transaction not yet committed) the upload waits until ``other_pid`` waits on a lock."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.audited = threading.Event()
        self.other_pid: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def record(self, action: str, **kwargs: Any) -> Any:
        event = self.real.record(action, **kwargs)
        if action == "attachment.added":
            self.audited.set()
            deadline = time.monotonic() + 10
            while not (self.other_pid and waiting_on_a_lock(self.other_pid[0])):
                assert time.monotonic() < deadline, "the other transaction never reached its lock"
                time.sleep(0.05)
        return event


def test_an_upload_and_a_clarification_answer_at_once_do_not_deadlock(asking, officer, colleague, monkeypatch):
    from requests_app.services import attachments

    held = HeldAfterAudit(attachments.audit)
    monkeypatch.setattr(attachments, "audit", held)
    pdf = pdf_bytes()
    results: dict[str, Any] = {}

    def upload_document() -> None:
        """A colleague's upload on the request (API or web page)."""
        try:
            attachment_add(actor=colleague, request=LegalRequest.objects.get(pk=asking.pk),
                           upload=upload(pdf, "order.pdf"), kind=AttachmentKind.OTHER)
            results["upload"] = "ok"
        except Exception as exc:
            results["upload"] = exc
        finally:
            connection.close()

    def answer() -> None:
        """The officer's clarification answer at that moment: the request moves to validating."""
        try:
            held.other_pid.append(backend_pid())
            assert held.audited.wait(20), "the upload never reached its audit event"
            clarification_submit(actor=officer, request=LegalRequest.objects.get(pk=asking.pk),
                                 message="The time stamp is in the document.", changes={})
            results["answer"] = "ok"
        except Exception as exc:
            results["answer"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=upload_document), threading.Thread(target=answer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(40)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    # On 34d4ec4 one of the two died with psycopg.errors.DeadlockDetected.
    assert results == {"upload": "ok", "answer": "ok"}, results

    stored = list(Attachment.objects.filter(request=asking))
    assert [a.original_name for a in stored] == ["order.pdf"], "the document stored"
    added = AuditEvent.objects.filter(request_id=asking.pk, action="attachment.added")
    assert list(added.values_list("object_id", flat=True)) == [str(stored[0].pk)], "and audited once"
    asking.refresh_from_db()
    assert asking.status == Status.VALIDATING, "the answer's transition happened"
    assert AuditEvent.objects.filter(request_id=asking.pk, action="request.clarification_answered").count() == 1
    request_validate(request_id=asking.pk)  # the re-validation the answer queued
    assert_books_balance([asking.pk], validations=2)


def test_an_upload_racing_a_withdrawal_is_refused_not_stored_on_a_closed_request(asking, officer, colleague,
                                                                                monkeypatch):
    """The open-request check runs under the request's lock: an upload that was checked while
    the request was open but stores after a withdrawal committed is refused, nothing kept."""
    from requests_app.services import attachments
    from requests_app.services.errors import InvalidState
    from requests_app.services.submission import request_withdraw

    stale = LegalRequest.objects.get(pk=asking.pk)  # read while open, as the view does
    request_withdraw(actor=officer, request=LegalRequest.objects.get(pk=asking.pk), reason="No longer needed.")
    assert stale.is_open
    with pytest.raises(InvalidState):
        attachments.attachment_add(actor=colleague, request=stale, upload=upload(pdf_bytes(), "late.pdf"),
                                   kind=AttachmentKind.OTHER)
    assert not Attachment.objects.filter(request=asking).exists()
    assert not AuditEvent.objects.filter(request_id=asking.pk, action="attachment.added").exists()


def test_many_uploads_at_once_on_one_request_are_all_stored_and_audited(asking, officer):
    """Six uploads released together: each stored once, each audited once, the chain intact."""
    pdf = pdf_bytes()
    barrier = threading.Barrier(6, timeout=20)
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            barrier.wait()
            attachment_add(actor=officer, request=LegalRequest.objects.get(pk=asking.pk),
                           upload=upload(pdf, f"doc-{i}.pdf"), kind=AttachmentKind.OTHER)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert Attachment.objects.filter(request=asking).count() == 6
    assert AuditEvent.objects.filter(request_id=asking.pk, action="attachment.added").count() == 6
    assert_books_balance([asking.pk])
