"""End to end with a real Celery worker on Redis and PostgreSQL (security.md §4.E; DESIGN.md §7).

HTTP goes to pytest-django's ``live_server``; the worker is a subprocess (``conftest.py``).
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connection

from accounts.services import token_issue
from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.models import LegalRequest
from requests_app.services.submission import request_submit
from requests_app.states import Status
from tests.conftest import epoc_body

from .conftest import WORKER_APP_NAME

pytestmark = [pytest.mark.e2e, pytest.mark.running_clock]

POLL_LIMIT = 30.0
PENDING = {Status.RECEIVED, Status.VALIDATING}


class Api:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/") + "/api/v1/requests/"
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def _call(self, url: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if data else {})}
        request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())

    def submit(self, **overrides) -> dict:
        status, body = self._call(self.base_url, epoc_body(**overrides))
        assert status == 201, body
        return body

    def detail(self, reference: str) -> dict:
        return self._call(f"{self.base_url}{reference}/")[1]

    def wait_until_processed(self, reference: str, limit: float = POLL_LIMIT) -> dict:
        deadline = time.monotonic() + limit
        while True:
            body = self.detail(reference)
            if body["status"] not in PENDING or time.monotonic() > deadline:
                return body
            time.sleep(0.2)


@pytest.fixture
def api(live_server, officer) -> Api:
    _, raw = token_issue(user=officer, name="e2e")
    return Api(live_server.url, raw)


def submit_direct(officer, **overrides) -> LegalRequest:
    """Submit through the service in this thread (autocommit: the publish happens at once)."""
    from requests_app.api.serializers import RequestCreateSerializer

    serializer = RequestCreateSerializer(data=epoc_body(**overrides))
    serializer.is_valid(raise_exception=True)
    return request_submit(actor=officer, data=serializer.validated_data)[0]


def bells_rung() -> bool:
    """Whether a validation drain is on its way or running (its doorbell, validation_queue)."""
    from django.core.cache import cache

    from requests_app import validation_queue

    return any(cache.get(validation_queue._bell_key(bell)) is not None
               for bell in range(settings.VALIDATION_DRAINERS))


def wait_for(predicate: Callable[[], bool], limit: float = POLL_LIMIT, what: str = "") -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {limit:.0f} s waiting for {what}")
        time.sleep(0.2)


def validated_count(request_id: int) -> int:
    return AuditEvent.objects.filter(request_id=request_id, action="request.validated").count()


def test_a_request_submitted_over_http_is_validated_by_a_real_worker(start_worker, api):
    worker = start_worker()
    created = api.submit()
    assert created["status"] == Status.RECEIVED

    body = api.wait_until_processed(created["reference"])
    assert body["status"] == Status.IN_REVIEW, worker.log[-3000:]
    assert body["decision"]["route"] == "accepted", worker.log[-6000:]
    request = LegalRequest.objects.get(reference=created["reference"])
    assert validated_count(request.pk) == 1
    # Taken from the queue by a drain (validation_queue): the request had no outbox row of its own.
    assert not OutboxMessage.objects.filter(request=request, topic="request.validate").exists()
    assert "requests_app.tasks.drain_validations[" in worker.log
    # The task commits the decision, then sends the receipt itself: the success line comes after
    # the state the API shows.
    wait_for(lambda: "succeeded" in worker.log, what="the worker to log the task's success")
    assert "drain_validations" in worker.log

    unclear = api.submit(targets=[{"kind": "ip_address", "value": "203.0.113.7"}])
    assert api.wait_until_processed(unclear["reference"])["status"] == Status.CLARIFICATION_REQUESTED
    assert worker.stop(), "the worker did not stop on SIGTERM"


# --- Connection reuse (DESIGN.md §7: CELERY_DB_REUSE_MAX) -----------------------------------------


def worker_backends() -> set[tuple[int, object]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s", [WORKER_APP_NAME])
        return set(cursor.fetchall())


def sessions_opened() -> int:
    """Sessions ever opened on the test database (PostgreSQL >= 14 counts them per database)."""
    time.sleep(1.5)  # backends report their statistics at most once a second
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


@pytest.mark.parametrize("reuse_max,expect_reuse", [("1000", True), ("0", False)],
                         ids=["settings-default", "control-reuse-off"])
def test_the_worker_opens_no_new_postgres_session_per_task(start_worker, officer, reuse_max, expect_reuse):
    """With CELERY_DB_REUSE_MAX Celery's Django fixup keeps the connection; without it, a session per task.

    The control case (reuse off) proves that the probe sees the churn it is looking for.
    """
    start_worker(CELERY_DB_REUSE_MAX=reuse_max)
    first = submit_direct(officer)
    wait_for(lambda: LegalRequest.objects.get(pk=first.pk).status not in PENDING, what="the warm-up task")
    before_backends, before_sessions = worker_backends(), sessions_opened()

    # One after the other, each decided before the next is submitted: each finds the bell free
    # and gets a drain task of its own (validation_queue), so 20 requests are 20 tasks.
    ids = []
    for i in range(20):
        ids.append(submit_direct(officer, case_reference=f"PN-E2E-{i:02d}").pk)
        wait_for(lambda: LegalRequest.objects.get(pk=ids[-1]).status not in PENDING and not bells_rung(),
                 what=f"validation {i} and its drain's end")
    after_backends, new_sessions = worker_backends(), sessions_opened() - before_sessions

    assert LegalRequest.objects.filter(pk__in=ids, status=Status.IN_REVIEW).count() == 20
    if expect_reuse:
        assert len(before_backends) == 1, before_backends
        assert after_backends == before_backends, "the worker replaced its PostgreSQL session"
        assert new_sessions == 0, f"{new_sessions} PostgreSQL sessions opened for 20 tasks"
    else:
        assert new_sessions >= 20


# --- Crash and restart (F1-style, worker idle) ------------------------------------------------------


def test_a_request_submitted_while_the_worker_is_dead_is_validated_after_restart(start_worker, api):
    first_worker = start_worker()
    warm = api.submit(case_reference="PN-E2E-WARM")
    assert api.wait_until_processed(warm["reference"])["status"] == Status.IN_REVIEW

    first_worker.kill()  # kill -9 of the whole process group while idle
    assert first_worker.proc.returncode is not None

    created = api.submit(case_reference="PN-E2E-DURING-OUTAGE")
    time.sleep(1.0)
    assert api.detail(created["reference"])["status"] == Status.RECEIVED  # nobody consumes meanwhile
    # Its drain (validation_queue) waits on the queue in Redis, not in the worker; the request in
    # received is its only record.
    assert not OutboxMessage.objects.filter(request__reference=created["reference"], topic="request.validate").exists()

    second_worker = start_worker()
    body = api.wait_until_processed(created["reference"])
    assert body["status"] == Status.IN_REVIEW, second_worker.log[-3000:]
    request = LegalRequest.objects.get(reference=created["reference"])
    assert validated_count(request.pk) == 1
    assert second_worker.stop()
