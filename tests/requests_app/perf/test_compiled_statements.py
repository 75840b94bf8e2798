"""The validation's lock, targets read and timers insert: compiled once per connection, and
the same rows and instances as the ORM's own (issue 9 item 5, portal/compiled.py).

At a29d429 the ORM compiled the request's wide ``SELECT … FOR UPDATE``, the targets'
prefetch and the timers' INSERT again for every validation.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.models.expressions import RawSQL
from django.db.models.sql import compiler as sql_compiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal import compiled
from requests_app import tasks
from requests_app.models import LegalRequest, Target
from requests_app.models.timers import Timer, TimerKind
from requests_app.states import Status
from requests_app.workflow import is_locked, lock_request
from tests.conftest import client_for, epoc_body

# SQLite (the embedded mode) takes the same compiled statements; its tests cannot flush the
# append-only audit table, so only the PostgreSQL ones that need commits are transactional.
pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL worker path")

ORACLE = {"_database_oid": RawSQL("'42'", ())}


def submitted(officer, **overrides) -> LegalRequest:
    response = client_for(officer).post("/api/v1/requests/", epoc_body(**overrides), format="json")
    assert response.status_code == 201, response.content
    return LegalRequest.objects.get(reference=response.json()["reference"])


@pytest.fixture
def compilations(monkeypatch) -> list[tuple[str, type, bool]]:
    """(compiler class, model, FOR UPDATE?) of every statement the ORM compiles."""
    seen: list[tuple[str, type, bool]] = []
    for cls in (sql_compiler.SQLCompiler, sql_compiler.SQLInsertCompiler):
        original = cls.as_sql

        def as_sql(self, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            seen.append((type(self).__name__, self.query.model, bool(getattr(self.query, "select_for_update", 0))))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "as_sql", as_sql)
    return seen


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_validation_compiles_neither_its_lock_nor_its_targets_read_nor_its_timers_insert(officer, no_broker,
                                                                                          compilations):
    first, second = submitted(officer), submitted(officer)
    tasks.validate_request.run(first.pk)  # compiles them for this connection
    compilations.clear()
    tasks.validate_request.run(second.pk)
    second.refresh_from_db()
    assert second.status == Status.IN_REVIEW and Timer.objects.filter(request=second).count() >= 3
    assert not [c for c in compilations if c[1] is LegalRequest and c[2]], compilations  # the row lock
    assert not [c for c in compilations if c[1] is Target], compilations
    assert not [c for c in compilations if c[1] is Timer and c[0] == "SQLInsertCompiler"], compilations


def fields_of(instance) -> dict:  # type: ignore[no-untyped-def]
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


@pytest.mark.parametrize("calls", [1, 2])  # compiling, then compiled
def test_the_lock_gives_the_instance_the_orm_gives(officer, no_broker, calls):
    request = submitted(officer)
    related = ("authority", "submitted_by")
    with transaction.atomic():
        expected = (LegalRequest.objects.select_for_update(of=("self",)).select_related(*related)
                    .annotate(**ORACLE).get(pk=request.pk))
        for _ in range(calls):
            with CaptureQueriesContext(connection) as lock:
                locked = lock_request(request.pk, select_related=related, annotate=ORACLE)
        assert is_locked(locked)
    assert len(lock) == 1
    if connection.vendor == "postgresql":
        assert 'FOR UPDATE OF "requests_app_legalrequest"' in lock[0]["sql"]
    assert fields_of(locked) == fields_of(expected)
    assert locked._database_oid == "42" and not locked._state.adding and locked._state.db == "default"
    assert not locked.get_deferred_fields()
    with CaptureQueriesContext(connection) as joined:  # read with the row
        assert fields_of(locked.authority) == fields_of(expected.authority)
        assert fields_of(locked.submitted_by) == fields_of(expected.submitted_by)
    assert len(joined) == 0


@postgres_only
def test_a_relockable_lock_remembers_its_transaction(officer, no_broker):
    request = submitted(officer)
    for _ in range(2):
        with transaction.atomic():
            locked = lock_request(request.pk, relockable=True)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_xact_id()::text")
                assert locked._locking_xact == cursor.fetchone()[0]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_compiled_lock_holds_the_row(officer, no_broker):
    request = submitted(officer)
    refused: list[BaseException] = []

    def other_transaction() -> None:
        try:
            with transaction.atomic():
                LegalRequest.objects.select_for_update(nowait=True).get(pk=request.pk)
        except DatabaseError as exc:
            refused.append(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        lock_request(request.pk)  # compiling
    with transaction.atomic():
        lock_request(request.pk)  # compiled
        thread = threading.Thread(target=other_transaction)
        thread.start()
        thread.join()
    assert len(refused) == 1, "another transaction could lock the row"


def test_a_missing_request_is_not_found(officer, no_broker):
    with transaction.atomic():
        for _ in range(2):  # compiling, then compiled
            with pytest.raises(LegalRequest.DoesNotExist):
                lock_request(987654321)


def test_the_targets_read_fills_the_prefetch_cache(officer, no_broker):
    targets = [{"kind": "username", "value": "first_account"}, {"kind": "username", "value": "second_account"},
               {"kind": "ip_address", "value": "203.0.113.9", "timestamp": "2026-09-01T10:00:00+02:00"}]
    request = submitted(officer, targets=targets)
    other = submitted(officer)
    for _ in range(2):
        locked = LegalRequest.objects.get(pk=request.pk)
        compiled.prefetch_reverse(locked, "targets")
        with CaptureQueriesContext(connection) as read:
            rows = list(locked.targets.all())
            assert all(t.request is locked for t in rows)
            assert locked.targets.count() == 3
        assert len(read) == 0
        assert [fields_of(t) for t in rows] == [fields_of(t) for t in Target.objects.filter(request=request)]
        # A query from the cached queryset still reads only this request's targets.
        assert list(locked.targets.filter(kind="username").values_list("value", flat=True)) == [
            "first_account", "second_account"]
        assert Target.objects.filter(request=other).exists()
    empty = LegalRequest.objects.get(pk=request.pk)
    Target.objects.filter(request=request).delete()
    compiled.prefetch_reverse(empty, "targets")
    with CaptureQueriesContext(connection) as read:
        assert list(empty.targets.all()) == []
    assert len(read) == 0


def test_the_targets_read_with_their_request_fill_the_prefetch_cache_as_the_prefetch_does(officer, no_broker):
    """``compiled.reverse_rows`` + ``prefetched_from_rows``: the rows read in the request's own
    statement (the validation's queue lock) are those the prefetch reads, same values and order."""
    targets = [{"kind": "username", "value": "first_account"}, {"kind": "username", "value": "l'été \"x\""},
               {"kind": "ip_address", "value": "203.0.113.9", "timestamp": "2026-09-01T10:00:00.123456+02:00"}]
    request = submitted(officer, targets=targets)
    submitted(officer)  # another request's targets are not read
    annotation = compiled.reverse_rows(LegalRequest, "targets")
    assert compiled.reverse_rows(LegalRequest, "targets") is annotation, "one statement shape"
    read = LegalRequest.objects.annotate(_rows=annotation).get(pk=request.pk)
    with CaptureQueriesContext(connection) as statements:
        compiled.prefetched_from_rows(read, "targets", read._rows)
        rows = list(read.targets.all())
        assert all(t.request is read for t in rows)
    assert len(statements) == 0
    expected = Target.objects.filter(request=request)  # Meta.ordering: by id
    assert [fields_of(t) for t in rows] == [fields_of(t) for t in expected]
    assert rows[2].timestamp == expected[2].timestamp and rows[2].timestamp.microsecond == 123456
    assert all(not t._state.adding and t._state.db == "default" for t in rows)
    Target.objects.filter(request=request).delete()
    empty = LegalRequest.objects.annotate(_rows=annotation).get(pk=request.pk)
    assert empty._rows is None
    compiled.prefetched_from_rows(empty, "targets", empty._rows)
    with CaptureQueriesContext(connection) as statements:
        assert list(empty.targets.all()) == []
    assert len(statements) == 0


def test_rows_that_do_not_read_back_from_json_are_refused():
    with pytest.raises(TypeError, match="do not read back from JSON"):
        compiled.reverse_rows(LegalRequest, "outbox")  # OutboxMessage.payload is a JSONField


@pytest.mark.django_db(transaction=True)
def test_the_queue_lock_reads_the_targets_no_statement_of_their_own(officer, no_broker, settings):
    request = submitted(officer)
    with CaptureQueriesContext(connection) as worker:
        assert tasks.drain_validations.run(request.pk % settings.VALIDATION_DRAINERS) == 1
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
    statements = [q["sql"] for q in worker.captured_queries]
    assert not [s for s in statements if s.startswith('SELECT "requests_app_target"')]
    locks = [s for s in statements if s.startswith('SELECT "requests_app_legalrequest"') and "SKIP LOCKED" in s]
    assert locks and all("json_agg" in lock for lock in locks)  # the take, then the drain's looks
    # The decision was drawn from the three targets read with the lock.
    assert len(request.decision["verdicts"]) >= 1 and request.target_count == 3


COLUMNS = ("kind", "due_at", "fired_at", "cancelled_at", "payload", "created_at", "attempts", "next_attempt_at",
           "last_error", "dead_at")


def timers_for(request: LegalRequest, count: int) -> list[Timer]:
    due = timezone.now() + timedelta(days=3)
    kinds = [TimerKind.DEADLINE_WARN, TimerKind.DEADLINE_BREACH, TimerKind.DEADLINE_DUE]
    return [Timer(request=request, kind=kinds[i], due_at=due + timedelta(hours=i),
                  payload={"deadline": "production_due", "n": i, "text": "l'été"}) for i in range(count)]


@pytest.mark.parametrize("count", [1, 3])  # one row, several (VALUES either way: portal/compiled.py)
def test_the_timers_insert_writes_what_bulk_create_writes(officer, no_broker, compilations, count):
    ours, theirs = submitted(officer), submitted(officer)
    Timer.objects.filter(request__in=[ours, theirs]).delete()
    compilations.clear()
    with transaction.atomic():
        compiled.insert_ignoring_conflicts(Timer, timers_for(ours, count))
        compiled.insert_ignoring_conflicts(Timer, timers_for(ours, count))  # conflicts: ignored
    inserts = [c for c in compilations if c[1] is Timer and c[0] == "SQLInsertCompiler"]
    assert len(inserts) <= 1  # at most once per connection and row count
    Timer.objects.bulk_create(timers_for(theirs, count), ignore_conflicts=True)
    assert (list(Timer.objects.filter(request=ours).order_by("due_at").values_list(*COLUMNS))
            == list(Timer.objects.filter(request=theirs).order_by("due_at").values_list(*COLUMNS)))
    assert Timer.objects.filter(request=ours).count() == count
    # A cancelled timer does not count: the same one scheduled again is a new row.
    Timer.objects.filter(request=ours).update(cancelled_at=timezone.now())
    compiled.insert_ignoring_conflicts(Timer, timers_for(ours, count))
    assert Timer.objects.filter(request=ours, cancelled_at__isnull=True).count() == count
