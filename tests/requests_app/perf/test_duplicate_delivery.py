"""A validation task delivered twice decides once and counts as one validation attempt (issue 9
item 5); a delivery after the first died or failed is a real new attempt and still counts.

With ``acks_late`` the same ``validate_request`` can arrive twice (two workers, the outbox relay
and its sweeper, the stuck-request sweeper). The first delivery of a new request claims and
decides it in one transaction under the row lock: a copy that arrives meanwhile waits for the
lock and then finds it decided. Every other delivery takes the durable path (claim, assess
outside any lock, decide in a second transaction), where a copy arriving between the two
transactions finds the in-progress advisory lock taken and does nothing. ``validation_attempts``
is the poison-message counter that sends a request to a person after ``MAX_ATTEMPTS``, so
duplicates alone must not push a healthy request towards "validation failed repeatedly".

The first delivery runs in its own thread and database connection and is held inside the
assessment while the second arrives. Every test runs on the frozen clock (tests/conftest.py).
"""

from __future__ import annotations

import threading
import time
from typing import Any
from unittest import mock

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

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

# The events of one validation, in chain order: the claim is audited even when its row is written
# with the decision's move.
ONE_VALIDATION = [("request.submitted", None), ("request.status_changed", ("received", "validating")),
                  ("request.validated", None), ("request.status_changed", ("validating", "in_review"))]


@pytest.fixture
def received(no_publish, officer) -> LegalRequest:
    request, _ = request_submit(actor=officer, data=validated())
    return request


@pytest.fixture
def durable(monkeypatch) -> None:
    """The try counter cannot be taken (as when Redis is unreachable): every delivery takes the
    durable two-transaction path, the one a redelivery or a re-validation takes."""
    monkeypatch.setattr(validation, "_count_try", lambda request: None)


def events(request_id: int) -> list[tuple[str, tuple[str, str] | None]]:
    return [(action, (data["from"], data["to"]) if action == "request.status_changed" else None)
            for action, data in AuditEvent.objects.filter(request_id=request_id).order_by("chain_seq")
            .values_list("action", "data")]


def held_in_assessment(monkeypatch, request_id: int):
    """Start the first delivery in a thread; return (thread, results, release) once it is
    inside the assessment (claimed and not yet decided); results["pid"] is its backend."""
    inside, release = threading.Event(), threading.Event()
    real_assess = validation.assess
    first: dict[str, object] = {}

    def assess(request):  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "first-delivery":
            first["pid"] = connection.connection.info.backend_pid
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


def delivered_again_waiting(request_id: int):
    """Deliver the task again in a second thread; return (thread, results) once that delivery
    waits for a lock in PostgreSQL (the row lock the first delivery holds)."""
    second: dict[str, Any] = {}
    started = threading.Event()

    def run() -> None:
        try:
            connection.ensure_connection()
            second["pid"] = connection.connection.info.backend_pid
            started.set()
            second["result"] = validation.request_validate(request_id=request_id)
        except BaseException as exc:
            second["error"] = exc
        finally:
            started.set()
            connections.close_all()

    thread = threading.Thread(target=run, name="second-delivery")
    thread.start()
    assert started.wait(timeout=30), second
    deadline = time.monotonic() + 30
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [second.get("pid")])
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return thread, second
        assert thread.is_alive() and time.monotonic() < deadline, f"the copy did not wait for the lock: {second}"
        time.sleep(0.05)


def test_a_copy_delivered_while_the_first_validates_waits_is_not_an_attempt_and_decides_nothing(
        monkeypatch, received):
    thread, first, release = held_in_assessment(monkeypatch, received.pk)
    try:
        copy, second = delivered_again_waiting(received.pk)  # the same task, delivered again
        # Nothing of the first delivery is committed yet: the claim is written with the decision.
        meanwhile = LegalRequest.objects.get(pk=received.pk)
    finally:
        release.set()
        thread.join(timeout=30)
    copy.join(timeout=30)
    assert "error" not in first and "error" not in second, (first, second)
    assert (meanwhile.status, meanwhile.validation_attempts) == (Status.RECEIVED, 0)
    assert first["result"] is not None and second["result"] is None
    final = LegalRequest.objects.get(pk=received.pk)
    assert (final.status, final.validation_attempts) == (Status.IN_REVIEW, 1)
    assert events(received.pk) == ONE_VALIDATION
    assert audit.verify_chain() is None


def test_a_copy_delivered_while_a_durable_validation_is_between_its_transactions_is_ignored(
        monkeypatch, received, durable):
    thread, first, release = held_in_assessment(monkeypatch, received.pk)
    try:
        second = validation.request_validate(request_id=received.pk)  # does not wait: the advisory lock
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
    assert events(received.pk) == ONE_VALIDATION
    assert audit.verify_chain() is None


def test_the_first_delivery_claims_and_decides_in_one_transaction_with_one_update(received):
    with CaptureQueriesContext(connection) as worker:
        decided = validation.request_validate(request_id=received.pk)
    sql = [q["sql"] for q in worker.captured_queries]
    assert decided is not None and decided.status == Status.IN_REVIEW
    assert sql.count("BEGIN") == 1 and sql.count("COMMIT") == 1, "\n".join(s[:100] for s in sql)
    assert len([s for s in sql if s.startswith('UPDATE "requests_app_legalrequest"')]) == 1
    assert not [s for s in sql if "advisory" in s]  # the row lock covers it from claim to decision
    final = LegalRequest.objects.get(pk=received.pk)
    assert (final.status, final.validation_attempts) == (Status.IN_REVIEW, 1)
    assert final.decision["proposal"] and final.due_at is not None
    assert events(received.pk) == ONE_VALIDATION
    assert audit.verify_chain() is None


def test_a_redelivery_after_the_first_delivery_was_killed_in_its_transaction_takes_the_durable_path(
        monkeypatch, received):
    """The first delivery's session dies mid-assessment (as with a SIGKILL of its worker): its
    transaction, row lock included, is gone, only its try is counted. The redelivery is not
    blocked, finds the request still ``received`` and claims it durably as a second attempt."""
    thread, first, release = held_in_assessment(monkeypatch, received.pk)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [first["pid"]])
        deadline = time.monotonic() + 30
        while True:  # the session is gone with its locks
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [first["pid"]])
                if cursor.fetchone()[0] == 0:
                    break
            assert time.monotonic() < deadline
            time.sleep(0.05)
        left = LegalRequest.objects.get(pk=received.pk)
        assert (left.status, left.validation_attempts) == (Status.RECEIVED, 0)
        assert events(received.pk) == ONE_VALIDATION[:1]  # nothing of the first delivery stored
        with CaptureQueriesContext(connection) as redelivery:
            decided = validation.request_validate(request_id=received.pk)
    finally:
        release.set()
        thread.join(timeout=30)
    assert "error" in first, "the killed delivery could not finish"
    sql = [q["sql"] for q in redelivery.captured_queries]
    assert [s for s in sql if s.startswith("SELECT pg_try_advisory_lock")], "the durable path"
    assert sql.count("COMMIT") == 2  # claim, then decision
    assert decided is not None and decided.status == Status.IN_REVIEW
    assert LegalRequest.objects.get(pk=received.pk).validation_attempts == 2  # the killed try counts
    assert events(received.pk) == ONE_VALIDATION
    assert audit.verify_chain() is None


def test_with_redis_unreachable_the_delivery_takes_the_durable_path(monkeypatch, settings, received, caplog):
    monkeypatch.setattr(validation, "_tries_down_until", 0.0)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
                                   "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}
    with CaptureQueriesContext(connection) as worker:
        decided = validation.request_validate(request_id=received.pk)
    sql = [q["sql"] for q in worker.captured_queries]
    assert decided is not None and decided.status == Status.IN_REVIEW
    assert [s for s in sql if s.startswith("SELECT pg_try_advisory_lock")] and sql.count("COMMIT") == 2
    assert len([s for s in sql if s.startswith('UPDATE "requests_app_legalrequest"')]) == 2
    assert "validation try counter unreachable" in caplog.text
    assert LegalRequest.objects.get(pk=received.pk).validation_attempts == 1
    assert events(received.pk) == ONE_VALIDATION
    assert audit.verify_chain() is None
    assert validation._tries_down_until > 0  # not asked again for a while


def test_a_redelivery_after_the_first_worker_died_is_a_new_attempt(received):
    """The first claimed durably and died (its session, and its lock, gone): the copy takes over."""
    assert validation.request_claim_for_validation(request_id=received.pk) is not None
    decided = validation.request_validate(request_id=received.pk)
    assert decided is not None and decided.status == Status.IN_REVIEW
    assert LegalRequest.objects.get(pk=received.pk).validation_attempts == 2


def test_a_retry_after_a_failed_attempt_counts_and_the_lock_is_released(monkeypatch, received):
    """The first delivery fails in its one transaction (nothing stored but its try); the retry
    takes the durable path, counts as the second attempt and releases its advisory lock."""
    def broken(request):  # type: ignore[no-untyped-def]
        raise RuntimeError("rules engine failed")

    monkeypatch.setattr(validation, "assess", broken)
    with pytest.raises(RuntimeError):
        validation.request_validate(request_id=received.pk)
    assert LegalRequest.objects.get(pk=received.pk).status == Status.RECEIVED
    with pytest.raises(RuntimeError):  # the retry, durable this time, fails too
        validation.request_validate(request_id=received.pk)
    monkeypatch.undo()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0
    assert LegalRequest.objects.get(pk=received.pk).validation_attempts == 2
    decided = validation.request_validate(request_id=received.pk)
    assert decided is not None and decided.status == Status.IN_REVIEW
    assert LegalRequest.objects.get(pk=received.pk).validation_attempts == 3


def test_the_try_counter_is_one_redis_command_for_a_first_delivery_and_counts_every_later_one(received):
    """``_count_try``: a first delivery sets its count and the count's time to live in one command
    (SET NX EX; issue 9 item 5, stop 34: it was a MULTI/INCR/EXPIRE/EXEC transaction); a later
    delivery counts on (INCR) and the key keeps the week it was given."""
    from django.core.cache import caches

    from requests_app.api.throttling import redis_client

    with transaction.atomic():
        request = validation._lock_for_validation(received.pk)
    assert request is not None
    backend = caches["default"]
    key = backend.make_key(f"validation-try:{request._database_oid}:{request.pk}")
    client = redis_client(backend, key)
    client.delete(key)
    sent: list[tuple[Any, ...]] = []
    original = type(client).execute_command

    def recording(self, *args, **options):  # type: ignore[no-untyped-def]
        sent.append(args)
        return original(self, *args, **options)

    with mock.patch.object(type(client), "execute_command", recording):
        assert validation._count_try(request) == 1
        first = list(sent)
        assert validation._count_try(request) == 2
        assert validation._count_try(request) == 3
    assert [args[0] for args in first] == ["SET"] and "NX" in first[0] and "EX" in first[0]
    assert 0 < client.ttl(key) <= validation._TRIES_TTL_SECONDS
    assert int(client.get(key)) == 3
    # A key that expired between the two commands of a later delivery (SET NX found it, INCR
    # did not) gets its time to live back.
    client.delete(key)
    with mock.patch.object(type(client), "set", lambda self, *a, **k: False):
        assert validation._count_try(request) == 1
    assert 0 < client.ttl(key) <= validation._TRIES_TTL_SECONDS
