"""A validation task delivered twice must not count as two validation attempts (issue 9 item 5).

With ``acks_late`` the same ``validate_request`` can arrive twice (two workers, the outbox relay
and its sweeper, the stuck-request sweeper). The copy that arrives while the first is
mid-validation used to re-claim the request and add one to ``validation_attempts``, the
poison-message counter that sends a request to a person after ``MAX_ATTEMPTS``, so duplicates
alone could push a healthy request towards "validation failed repeatedly". A copy that
arrives after the first died or failed is a real new attempt and still counts.

The first delivery runs in its own thread and database connection and is held inside the
assessment (between its two transactions) while the second arrives.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from audit import trail as audit
from audit.models import AuditEvent
from requests_app.models import LegalRequest
from requests_app.services import validation
from requests_app.services.submission import request_submit
from requests_app.states import Status
from tests.conftest import validated

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections at once: PostgreSQL"),
]


@pytest.fixture
def received(no_publish, officer) -> LegalRequest:
    request, _ = request_submit(actor=officer, data=validated())
    return request


def held_in_assessment(monkeypatch, request_id: int):
    """Start the first delivery in a thread; return (thread, results, release) once it is
    inside the assessment, i.e. claimed and not yet decided."""
    inside, release = threading.Event(), threading.Event()
    real_assess = validation.assess
    first: dict[str, object] = {}

    def assess(request):  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "first-delivery":
            inside.set()
            assert release.wait(timeout=30)
        return real_assess(request)

    monkeypatch.setattr(validation, "assess", assess)

    def run() -> None:
        try:
            first["result"] = validation.request_validate(request_id=request_id)
        except BaseException as exc:  # reported in the main thread
            first["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="first-delivery")
    thread.start()
    assert inside.wait(timeout=30), first
    return thread, first, release


def test_a_copy_delivered_while_the_first_validates_is_not_an_attempt_and_decides_nothing(monkeypatch, received):
    thread, first, release = held_in_assessment(monkeypatch, received.pk)
    try:
        second = validation.request_validate(request_id=received.pk)  # the same task, delivered again
        meanwhile = LegalRequest.objects.get(pk=received.pk)
    finally:
        release.set()
        thread.join(timeout=30)
    assert "error" not in first, first
    assert second is None
    assert (meanwhile.status, meanwhile.validation_attempts) == (Status.VALIDATING, 1)
    final = LegalRequest.objects.get(pk=received.pk)
    assert final.status == Status.IN_REVIEW and first["result"] is not None
    assert final.validation_attempts == 1
    assert AuditEvent.objects.filter(request_id=received.pk, action="request.validated").count() == 1
    assert audit.verify_chain() is None


def test_a_redelivery_after_the_first_worker_died_is_a_new_attempt(received):
    """The first claimed and died (its session, and its lock, gone): the copy takes over."""
    assert validation.request_claim_for_validation(request_id=received.pk) is not None
    decided = validation.request_validate(request_id=received.pk)
    assert decided is not None and decided.status == Status.IN_REVIEW
    assert LegalRequest.objects.get(pk=received.pk).validation_attempts == 2


def test_a_retry_after_a_failed_attempt_counts_and_the_lock_is_released(monkeypatch, received):
    def broken(request):  # type: ignore[no-untyped-def]
        raise RuntimeError("rules engine failed")

    monkeypatch.setattr(validation, "assess", broken)
    with pytest.raises(RuntimeError):
        validation.request_validate(request_id=received.pk)
    monkeypatch.undo()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0
    decided = validation.request_validate(request_id=received.pk)
    assert decided is not None and decided.status == Status.IN_REVIEW
    assert LegalRequest.objects.get(pk=received.pk).validation_attempts == 2
