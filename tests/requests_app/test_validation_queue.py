"""The validation queue (requests_app/validation_queue.py): the requests in ``received`` are the
queue, a doorbell per drainer says a drain is on its way. Submissions while a drain is on its
way publish nothing; one drain validates them all, emergencies first; none is left behind by a
failing request, a lost ring (broker or cache down at the commit) or the drain's own release."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app import tasks, validation_queue
from requests_app.models import LegalRequest
from requests_app.services import validation
from requests_app.services.submission import request_submit
from requests_app.states import Status
from tests.conftest import epoc_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.VALIDATION_DRAINERS = 1  # one bell: every request rings the same


def validated(**overrides):
    from requests_app.api.serializers import RequestCreateSerializer

    serializer = RequestCreateSerializer(data=epoc_body(**overrides))
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@pytest.fixture
def published(monkeypatch):
    """The drains published, recorded instead of run (a worker that has not taken them yet)."""
    calls: list[int] = []
    monkeypatch.setattr(validation_queue, "_publish_drain", calls.append)
    return calls


@pytest.fixture
def submit(officer, django_capture_on_commit_callbacks):
    """Submit as the API does and run what its commit triggers (the ring)."""

    def run(**overrides) -> LegalRequest:
        with django_capture_on_commit_callbacks(execute=True):
            request, _ = request_submit(actor=officer, data=validated(**overrides))
        return request

    return run


def bell_rung(bell: int = 0) -> bool:
    return caches["default"].get(validation_queue._bell_key(bell)) is not None


def validated_order() -> list[int]:
    return [int(pk or 0) for pk in AuditEvent.objects.filter(action="request.validated").order_by("seq")
            .values_list("request_id", flat=True)]


def test_submissions_while_a_drain_is_on_its_way_publish_nothing_and_one_drain_validates_them_all(submit, published):
    requests = [submit(case_reference=f"PN-Q-{i}") for i in range(4)]
    assert published == [0], "the first rings; the others find the bell rung"
    assert bell_rung()
    assert not OutboxMessage.objects.filter(topic="request.validate").exists()

    assert tasks.drain_validations.apply(args=(0,)).get() == 4
    assert validated_order() == [r.pk for r in requests], "in order of arrival"
    assert not LegalRequest.objects.filter(status=Status.RECEIVED).exists()
    assert not bell_rung(), "released once nothing waits"
    submit(case_reference="PN-Q-after")
    assert published == [0, 0], "the next submission rings again"


def test_a_drain_takes_emergencies_first(submit, published):
    ordinary = submit(case_reference="PN-Q-ordinary")
    emergency = submit(case_reference="PN-Q-emergency", emergency=True)
    tasks.drain_validations.apply(args=(0,)).get()
    assert validated_order()[:2] == [emergency.pk, ordinary.pk]


def test_a_failing_request_is_skipped_and_the_others_are_validated(submit, published, monkeypatch):
    poison = submit(case_reference="PN-Q-poison")
    others = [submit(case_reference=f"PN-Q-fine-{i}") for i in range(2)]
    assess = validation.assess

    def failing(request):
        if request.pk == poison.pk:
            raise RuntimeError("rules engine bug")
        return assess(request)

    with monkeypatch.context() as broken:
        broken.setattr(validation, "assess", failing)
        assert tasks.drain_validations.apply(args=(0,)).get() == 2, "the drain ends; it does not loop on the poison"
    poison.refresh_from_db()
    assert poison.status in {Status.RECEIVED, Status.VALIDATING} and poison.decision is None
    assert sorted(validated_order()) == sorted(r.pk for r in others)
    assert not bell_rung()

    monkeypatch.undo()  # and the worker takes the drains it is sent
    # Left for a later drain (the beat rings for a request waiting this long; the stuck-request
    # sweeper for one in validating): it is validated once the fault is gone.
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        tasks.ring_for_waiting_requests.apply().get()
        tasks.sweep_stuck_requests.apply().get()
    poison.refresh_from_db()
    assert poison.status == Status.IN_REVIEW
    assert validated_order().count(poison.pk) == 1


def test_a_drain_hands_over_to_a_new_task_after_its_batch(submit, published, settings):
    settings.VALIDATION_DRAIN_BATCH = 2
    for i in range(5):
        submit(case_reference=f"PN-Q-batch-{i}")
    assert published == [0]
    assert tasks.drain_validations.apply(args=(0,)).get() == 2
    assert published == [0, 0], "the rest handed to a fresh task at the end of the queue"
    assert bell_rung()
    assert LegalRequest.objects.filter(status=Status.RECEIVED).count() == 3


def test_a_request_committed_just_before_the_drain_releases_its_bell_is_validated_by_it(submit, published, settings):
    settings.VALIDATION_DRAIN_LINGER_SECONDS = 0  # released at once: the look after the release finds it
    first = submit(case_reference="PN-Q-first")
    late: list[LegalRequest] = []

    def next_then_a_late_submission(skip: set[int]) -> int | None:
        taken = validation.validate_next_pending(skip=skip)
        if taken is None and not late:
            # Committed after the drain found the queue empty, before it released the bell: its
            # ring finds the bell rung and publishes nothing.
            late.append(submit(case_reference="PN-Q-late"))
        return taken

    assert validation_queue.drain(0, validate_next=next_then_a_late_submission) == 2
    assert published == [0], "the late submission published nothing"
    assert sorted(validated_order()) == sorted([first.pk, late[0].pk])
    assert not bell_rung()


def test_broker_down_at_the_commit_frees_the_bell_and_the_beat_rings_later(submit, monkeypatch, settings):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.drain_validations, "apply_async", refuse)
    request = submit()  # the submission itself succeeds: the broker is not in the request path
    request.refresh_from_db()
    assert request.status == Status.RECEIVED
    assert not bell_rung(), "a bell whose drain was not published would block the next ring"

    assert tasks.ring_for_waiting_requests.apply().get() == 0, "too early: its ring may still be on its way"
    monkeypatch.undo()  # the broker is back
    with time_machine.travel(timezone.now() + settings.OUTBOX_RESEND_AFTER + timedelta(seconds=1)):
        assert tasks.ring_for_waiting_requests.apply().get() == 1
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
    assert validated_order() == [request.pk]


def test_cache_down_at_the_commit_the_submission_is_stored_and_the_beat_rings_later(submit, published, monkeypatch,
                                                                                    settings):
    def down(bell):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as cache_down:
        cache_down.setattr(validation_queue, "_hold", down)
        request = submit()
    assert published == []
    assert LegalRequest.objects.get(pk=request.pk).status == Status.RECEIVED
    with time_machine.travel(timezone.now() + settings.OUTBOX_RESEND_AFTER + timedelta(seconds=1)):
        assert tasks.ring_for_waiting_requests.apply().get() == 1
    assert published == [0]


def test_a_rung_bell_expires_so_a_lost_drain_blocks_nothing_for_long(submit, published, settings):
    submit()
    key = caches["default"].make_key(validation_queue._bell_key(0))
    ttl = caches["default"]._cache.get_client(key).ttl(key)
    assert 0 < ttl <= settings.VALIDATION_BELL_TTL_SECONDS


def test_a_request_rings_the_bell_of_its_id(settings, published):
    settings.VALIDATION_DRAINERS = 3
    assert [validation_queue._bell_of(pk) for pk in (6, 7, 8)] == [0, 1, 2]
    assert validation_queue.ring(7) and published == [1]
    assert not validation_queue.ring(10), "bell 1 is rung"
    assert validation_queue.ring(8) and published == [1, 2]


def test_a_submission_while_the_drain_lingers_is_validated_by_it_without_a_task(submit, published, settings,
                                                                                  monkeypatch):
    settings.VALIDATION_DRAIN_LINGER_SECONDS = 0.01
    first = submit(case_reference="PN-Q-first")
    waits: list[float] = []
    late: list[LegalRequest] = []

    def sleep(seconds: float) -> None:  # a submission comes in while the drain waits
        waits.append(seconds)
        if not late:
            late.append(submit(case_reference="PN-Q-during-the-wait"))

    monkeypatch.setattr(validation_queue.time, "sleep", sleep)
    assert tasks.drain_validations.apply(args=(0,)).get() == 2
    assert published == [0], "the submission during the wait found the bell rung: no task of its own"
    assert validated_order() == [first.pk, late[0].pk]
    assert waits == [0.01, 0.01], "one wait per empty queue: after the first, and after the late one"
    assert not bell_rung()


def test_a_drain_that_took_nothing_does_not_wait(published, settings, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(validation_queue.time, "sleep", waits.append)
    assert tasks.drain_validations.apply(args=(0,)).get() == 0
    assert waits == []
