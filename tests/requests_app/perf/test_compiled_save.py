"""``save()``'s UPDATE of a request and INSERT of an outbox row, compiled once per connection and
shape (portal/compiled_save.py), and the receipt's Notification INSERT … RETURNING
(portal/compiled.py ``insert_returning``; issue 9 item 5): the same SQL text, the same row,
the same instance, signals as before. At 5da51ce the ORM built and compiled the three statements
again for every validation (``SQLUpdateCompiler.as_sql``, ``SQLInsertCompiler.as_sql``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Model, signals
from django.db.models.sql import compiler as sql_compiler
from django.utils import timezone

from outbox.models import OutboxMessage
from portal import compiled
from requests_app import tasks
from requests_app.models import LegalRequest, Notification, NotificationStatus
from requests_app.states import Status
from tests.conftest import client_for, epoc_body

pytestmark = pytest.mark.django_db


def submitted(officer) -> LegalRequest:
    response = client_for(officer).post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201, response.content
    return LegalRequest.objects.get(reference=response.json()["reference"])


@pytest.fixture
def compilations(monkeypatch) -> list[tuple[str, type]]:
    seen: list[tuple[str, type]] = []
    for cls in (sql_compiler.SQLUpdateCompiler, sql_compiler.SQLInsertCompiler):
        original = cls.as_sql

        def as_sql(self, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            seen.append((type(self).__name__, self.query.model))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "as_sql", as_sql)
    return seen


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL worker path")
@pytest.mark.django_db(transaction=True)
def test_a_validation_compiles_neither_the_requests_update_nor_the_outbox_nor_the_notification_insert(
        officer, no_broker, compilations):
    first, second = submitted(officer), submitted(officer)
    tasks.validate_request.run(first.pk)  # compiles them for this connection
    compilations.clear()
    tasks.validate_request.run(second.pk)
    second.refresh_from_db()
    assert second.status == Status.IN_REVIEW
    assert OutboxMessage.objects.filter(request=second, topic="notify.new_request").exists()
    assert not [c for c in compilations if c == ("SQLUpdateCompiler", LegalRequest)], compilations
    assert not [c for c in compilations if c == ("SQLInsertCompiler", OutboxMessage)], compilations
    assert Notification.objects.filter(request=second, status=NotificationStatus.SENT).exists()
    assert not [c for c in compilations if c == ("SQLInsertCompiler", Notification)], compilations


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL text sent (with its placeholders), as the database receives it."""
    seen: list[str] = []

    def wrapper(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield seen


def row(model: type[Model], pk: int) -> dict:
    return model._default_manager.filter(pk=pk).values().get()


def orm_only(monkeypatch) -> None:
    """The models' own ``_do_update`` / ``_do_insert`` replaced by Django's."""
    monkeypatch.setattr(LegalRequest, "_do_update", Model._do_update)
    monkeypatch.setattr(OutboxMessage, "_do_insert", Model._do_insert)  # type: ignore[attr-defined]


MOVES = [
    # (fields, values): a NULL among them changes the statement's text ("col = NULL")
    (["status", "status_changed_at", "updated_at", "due_at", "decision"],
     {"status": Status.IN_REVIEW, "due_at": None, "decision": {"route": "accepted", "findings": [{"é": [1, None]}]}}),
    (["status", "status_changed_at", "updated_at", "due_at", "decision"],
     {"status": Status.IN_REVIEW, "due_at": "soon", "decision": {"route": "accepted", "findings": []}}),
    (["validation_attempts"], {"validation_attempts": 3}),
]


@pytest.mark.parametrize(("fields", "values"), MOVES)
def test_the_update_writes_and_sends_what_the_orm_does(officer, no_broker, monkeypatch, fields, values):
    ours, theirs = submitted(officer), submitted(officer)
    now = timezone.now()
    results = []
    for request, orm in ((theirs, True), (ours, False), (ours, False)):  # the ORM, then compiling, then compiled
        with monkeypatch.context() as patch:
            if orm:
                orm_only(patch)
            for name, value in values.items():
                setattr(request, name, now + timedelta(days=3) if value == "soon" else value)
            request.status_changed_at = now
            with statements() as sent:
                request.save(update_fields=fields)
            results.append((sent, row(LegalRequest, request.pk)))
    (orm_sql, orm_row), (ours_sql, ours_row), (again_sql, _) = results
    assert ours_sql == again_sql == orm_sql  # one statement, the same text (the same prepared statement)
    differing = {"id", "reference", "received_at", "updated_at", "receipt_hash", "created_at", "idempotency_key"}
    for name in orm_row:
        if name not in differing and not name.endswith("_hash"):
            assert ours_row[name] == orm_row[name], name
    assert len(ours_sql) == 1
    assert ours_row["updated_at"] == ours.updated_at  # auto_now: pre_save still ran and was written


def test_an_expression_and_a_missing_row_go_to_the_orm(officer, no_broker):
    request = submitted(officer)
    before = request.validation_attempts
    request.validation_attempts = F("validation_attempts") + 2
    request.save(update_fields=["validation_attempts"])
    assert row(LegalRequest, request.pk)["validation_attempts"] == before + 2
    gone = LegalRequest.objects.get(pk=request.pk)
    gone.pk = 10**12  # no such row: save(update_fields=…) refuses, as Django's does
    with pytest.raises(DatabaseError, match="did not affect any rows"), transaction.atomic():
        gone.save(update_fields=["summary"])


def test_the_outbox_insert_gives_the_row_and_instance_the_orm_gives(officer, no_broker, monkeypatch):
    request = submitted(officer)
    made = []
    for orm in (True, False, False):
        with monkeypatch.context() as patch:
            if orm:
                orm_only(patch)
            with statements() as sent:
                message = OutboxMessage.objects.create(topic="notify.new_request", request=request,
                                                       payload={"copy": "full", "n": [1, "é"]}, dedup_key=None)
            made.append((message, sent))
    (orm_message, orm_sql), (ours, ours_sql), (again, again_sql) = made
    assert ours_sql == again_sql == orm_sql
    for message in (ours, again):
        assert isinstance(message.pk, int) and message.pk > orm_message.pk
        assert not message._state.adding and message._state.db == orm_message._state.db
        stored, expected = row(OutboxMessage, message.pk), row(OutboxMessage, orm_message.pk)
        assert {k: v for k, v in stored.items() if k not in {"id", "created_at", "available_at"}} == \
            {k: v for k, v in expected.items() if k not in {"id", "created_at", "available_at"}}
        assert stored["created_at"] == message.created_at  # the default, written as the instance holds it


def test_signals_are_sent_as_before(officer, no_broker):
    request = submitted(officer)
    seen: list[tuple[str, type, bool]] = []

    def pre(sender, instance, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(("pre", sender, instance.pk is None))

    def post(sender, instance, created, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(("post", sender, created))

    for model in (LegalRequest, OutboxMessage):
        signals.pre_save.connect(pre, sender=model)
        signals.post_save.connect(post, sender=model)
    try:
        request.summary = "changed"
        request.save(update_fields=["summary"])
        OutboxMessage.objects.create(topic="notify.new_request", request=request)
    finally:
        for model in (LegalRequest, OutboxMessage):
            signals.pre_save.disconnect(pre, sender=model)
            signals.post_save.disconnect(post, sender=model)
    assert seen == [("pre", LegalRequest, False), ("post", LegalRequest, False),
                    ("pre", OutboxMessage, True), ("post", OutboxMessage, True)]


def test_a_duplicate_dedup_key_still_raises_integrity_error(officer, no_broker):
    from django.db import IntegrityError

    request = submitted(officer)
    OutboxMessage.objects.create(topic="notify.new_request", request=request, dedup_key="once")
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.create(topic="notify.new_request", request=request, dedup_key="once")


def notifications_for(message: OutboxMessage, addresses: list[str], tag: str) -> list[Notification]:
    return [Notification(key=f"{tag}:{message.pk}:{a}", outbox=message, request=message.request, event=message.topic,
                         recipient=a, language="fr", subject="Demande reçue", urgent=False,
                         status=NotificationStatus.PENDING, deliver_after=None) for a in addresses]


def same_insert(ours: list[str], orm: list[str]) -> bool:
    """The same INSERT … RETURNING of the same columns; ours always in the VALUES form, where the ORM
    sends several rows on PostgreSQL as ``SELECT * FROM UNNEST`` of arrays (portal/compiled.py)."""
    if len(ours) != 1 or len(orm) != 1:
        return False
    head, returning = ours[0].split(" VALUES ")[0], ours[0].rsplit(" RETURNING ", 1)[1]
    return orm[0].startswith(head) and orm[0].endswith(f" RETURNING {returning}") and "UNNEST" not in ours[0]


@pytest.mark.parametrize("count", [1, 3])  # one row; several (the ORM's UNNEST form on PostgreSQL, ours VALUES)
def test_the_notification_insert_gives_what_bulk_create_gives(officer, no_broker, count):
    request = submitted(officer)
    message = OutboxMessage.objects.create(topic="notify.new_request", request=request)
    addresses = [f"r{i}@example.org" for i in range(count)]
    with statements() as orm_sql:
        theirs = Notification.objects.bulk_create(notifications_for(message, addresses, "orm"))
    for tag in ("compiling", "compiled"):
        with statements() as ours_sql:
            ours = compiled.insert_returning(Notification, notifications_for(message, addresses, tag))
        assert same_insert(ours_sql, orm_sql), (ours_sql, orm_sql)
        assert count == 1 or ours_sql != orm_sql or connection.vendor != "postgresql"
        assert [n.recipient for n in ours] == addresses
        for mine, orm in zip(ours, theirs, strict=True):
            assert isinstance(mine.pk, int) and mine.pk > orm.pk
            assert (mine._state.adding, mine._state.db) == (orm._state.adding, orm._state.db) == (False, "default")
            stored, expected = row(Notification, mine.pk), row(Notification, orm.pk)
            assert stored["created_at"] == mine.created_at
            drop = {"id", "key", "created_at"}
            assert {k: v for k, v in stored.items() if k not in drop} == {k: v for k, v in expected.items()
                                                                         if k not in drop}


def test_a_notification_planned_before_still_raises_integrity_error(officer, no_broker):
    from django.db import IntegrityError

    request = submitted(officer)
    message = OutboxMessage.objects.create(topic="notify.new_request", request=request)
    compiled.insert_returning(Notification, notifications_for(message, ["a@example.org"], "once"))
    with pytest.raises(IntegrityError), transaction.atomic():
        compiled.insert_returning(Notification, notifications_for(message, ["a@example.org"], "once"))
    assert Notification.objects.filter(outbox=message).count() == 1
