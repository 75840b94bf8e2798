"""What PostgreSQL writes per submission (issue 9 item 5, bench/perf_notes.md stop 29).

Read back from the WAL (``pg_walinspect``, bench/wal_writes.py) around a real API submission and
its validation task, both committed: B-tree entries per submission and commits, counted exactly
and independently of the machine's load. At 5da51ce: 112 entries (web 41, worker 71) and 6
commits (web 2, worker 4). Since:

- requests_app 0032: a request's reference in one unique ``varchar_pattern_ops`` index instead
  of a unique index and its pattern_ops twin (2 entries: the INSERT and the validation's UPDATE);
- outbox 0004: ``dedup_key`` unique only where set (4 entries: two rows, two versions each);
- the receipt's outbox row marked sent in its planning transaction (``relay.mark_sent_with``),
  not in an autocommit UPDATE of its own after the e-mail (1 commit);
- the request's audit chain head created with its first event (``record(new_chain=True)``),
  not created at position 0 and moved (1 entry, 1 row version);
- the receipt planned in the deciding transaction, its outbox row written as consumed
  (``notifications.enqueue``): no pending-index entry, no "sent" UPDATE, no planning commit
  (3 entries, 1 commit).
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection, transaction

from bench import wal_writes
from outbox import relay
from outbox.models import OutboxMessage, OutboxStatus
from requests_app import tasks
from requests_app.models import LegalRequest, Notification, NotificationStatus
from tests.conftest import client_for, epoc_body

APP_TABLES = ("requests_app_", "audit_", "lrp_report_", "accounts_")  # not the catalogs (autovacuum)


@pytest.fixture
def wal():
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():
                wal_writes.ensure_extension(cursor)
        except Exception as exc:  # not a superuser, or the contrib modules are not installed
            pytest.skip(f"pg_walinspect unavailable: {exc}")

    def measure(work):  # type: ignore[no-untyped-def]
        with connection.cursor() as cursor:
            start = wal_writes.current_lsn(cursor)
        work()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_flush_lsn()")
            end = str(cursor.fetchone()[0])
            return wal_writes.read(cursor, start, end, tables=APP_TABLES)

    return measure


def post_request(officer, client=None) -> LegalRequest:
    response = (client or client_for(officer)).post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201, response.content
    return LegalRequest.objects.get(reference=response.json()["reference"])


@pytest.mark.django_db(transaction=True)
def test_a_submission_writes_97_index_entries_in_3_commits(officer, no_broker, wal):
    client = client_for(officer)  # its token issued (and audited) before the measured submission
    post_request(officer, client)  # the first of a process compiles and caches; measured from the second on
    tasks.drain_validations.run(0)  # and is validated: the measured drain takes the second alone
    found: list[LegalRequest] = []
    web = wal(lambda: found.append(post_request(officer, client)))
    mail.outbox = []
    worker = wal(lambda: tasks.drain_validations.run(0))  # the drain takes it from the queue
    assert len(mail.outbox) == 1  # the receipt went out
    entries = {"web": sum(web.index_entries.values()), "worker": sum(worker.index_entries.values())}
    # 41 + 71 at 5da51ce, 37 + 68 at 630151b (the web's request.validate outbox row: 5 entries),
    # 32 + 68 at 71a6081 (the receipt's outbox row then written pending and updated to sent)
    assert entries == {"web": 32, "worker": 65}, (web.index_entries, worker.index_entries)
    assert "outbox_pending_due" not in worker.index_entries
    assert (web.commits, worker.commits) == (1, 2)  # 2 + 4 at 5da51ce, 2 + 3 at 630151b and 71a6081
    for name in ("requests_app_legalrequest_reference_key", "requests_app_legalrequest_reference_7b3e1014_like",
                 "requests_app_outboxmessage_dedup_key_key"):
        assert name not in web.index_entries and name not in worker.index_entries
    assert web.index_entries["req_reference"] == worker.index_entries["req_reference"] == 1
    # The request's chain head: created with its first event, one row version (at 5da51ce an
    # INSERT ON CONFLICT at position 0, then the move: two, and two entries in its primary key).
    assert dict(web.heap["audit_chain"]) == {"insert": 1}
    assert web.index_entries["audit_chain_pkey"] == 1


@pytest.mark.django_db(transaction=True)
def test_the_receipt_is_planned_in_the_deciding_transaction(officer, no_broker):
    """The receipt's outbox row is written once, as consumed, and its Notification row with it,
    in the transaction that decides; the e-mail's "sent" mark is the only write after it."""
    request = post_request(officer)
    writes: list[tuple[str, str, bool]] = []

    def wrapper(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.startswith(("INSERT", "UPDATE")):
            writes.append((sql.split(" ")[0], sql.split('"')[1], connection.in_atomic_block))
        return execute(sql, params, many, context)

    mail.outbox = []
    with connection.execute_wrapper(wrapper):
        tasks.validate_request.run(request.pk)
    # No write of the worker in a transaction of its own (autocommit): at 5da51ce the outbox
    # row's "sent" UPDATE came last, alone, after the e-mail.
    assert all(in_transaction for *_, in_transaction in writes), writes
    outbox_writes = [(verb, table) for verb, table, _ in writes if table == "requests_app_outboxmessage"]
    assert outbox_writes == [("INSERT", "requests_app_outboxmessage")], writes  # at 71a6081 an UPDATE too
    tables = [table for _, table, _ in writes]
    decided = tables.index("requests_app_legalrequest")
    planned = tables.index("requests_app_notification")
    assert tables.index("requests_app_outboxmessage") < planned  # the row's id is the notification's key
    assert writes[planned][0] == "INSERT" and writes[-1] == ("UPDATE", "requests_app_notification", True)
    assert decided < planned < len(writes) - 1
    receipt = OutboxMessage.objects.get(request=request, topic="notify.new_request")
    assert (receipt.status, receipt.attempts) == (OutboxStatus.SENT, 1)
    assert receipt.sent_at is not None
    assert Notification.objects.get(outbox=receipt).status == NotificationStatus.SENT
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [officer.email]


@pytest.mark.django_db(transaction=True)
def test_a_mark_rolled_back_with_its_consumer_is_not_trusted(officer, no_broker):
    """``publish`` writes the mark itself unless the consumer's mark was committed."""
    request = post_request(officer)
    message = OutboxMessage.objects.create(topic="request.validate", request=request)  # as the sweeper writes it

    def consumer(row):  # type: ignore[no-untyped-def]
        try:
            with transaction.atomic():
                relay.mark_sent_with(row)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass

    relay.register("test.rollback", consumer)
    try:
        OutboxMessage.objects.filter(pk=message.pk).update(topic="test.rollback")
        message.topic = "test.rollback"
        assert relay.publish(message.pk, message=message) is True
    finally:
        relay._handlers.pop("test.rollback", None)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
