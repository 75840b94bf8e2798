"""A chain head gets one row version per append (issue 9 item 5): it is locked by ``FOR UPDATE``,
not by a no-op upsert, then moved with the events; a head created meanwhile by another
transaction is still locked and followed."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from audit import trail as audit
from audit.models import AuditChain, AuditEvent

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row versions: PostgreSQL")


class FakeRequest:
    class _meta:  # noqa: N801
        label_lower = "requests_app.legalrequest"

    def __init__(self, pk: int) -> None:
        self.pk = pk


def head_writes() -> tuple[int, int]:
    """(rows inserted, row versions written by updates) of the chain heads, this transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT n_tup_ins, n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'audit_chain'")
        found = cursor.fetchone()
    return (found[0], found[1]) if found else (0, 0)


@pytest.mark.django_db
def test_an_append_to_an_existing_chain_writes_its_head_once():
    audit.record("request.submitted", request=FakeRequest(11))
    inserted, updated = head_writes()
    with transaction.atomic(), audit.batch():
        audit.record("request.status_changed", request=FakeRequest(11))
        audit.record("request.validated", request=FakeRequest(11))
    assert head_writes() == (inserted, updated + 1)  # the no-op upsert wrote one more
    assert AuditChain.objects.get(key="r:11").seq == 3
    assert audit.verify_chain() is None


@pytest.mark.django_db
def test_a_new_chain_is_created_and_moved():
    inserted, updated = head_writes()
    event = audit.record("request.submitted", request=FakeRequest(12))
    assert head_writes() == (inserted + 1, updated + 1)
    head = AuditChain.objects.get(key="r:12")
    assert (head.seq, head.hash, head.last_at) == (1, event.hash, event.occurred_at)


@pytest.mark.django_db(transaction=True)
def test_a_head_another_transaction_creates_meanwhile_is_locked_and_followed():
    """The other transaction's new head is not in the statement's snapshot: the upsert that locks
    the committed version takes over, and the chain goes on from it."""
    holding, errors = threading.Event(), []

    def create_and_commit_late() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("INSERT INTO audit_chain (key, seq, hash, sealed_seq) VALUES ('r:13', 0, %s, 0)",
                               [audit.GENESIS_HASH])
                holding.set()
                for _ in range(250):  # until the appender waits for this insert
                    cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND wait_event_type = 'Lock'")
                    if cursor.fetchone()[0]:
                        break
                    time.sleep(0.02)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    creator = threading.Thread(target=create_and_commit_late)
    creator.start()
    assert holding.wait(10)
    with CaptureQueriesContext(connection) as context:
        event = audit.record("request.submitted", request=FakeRequest(13))
    creator.join(10)
    assert errors == []
    assert any("DO UPDATE SET seq = audit_chain.seq" in q["sql"] for q in context.captured_queries)
    assert (event.chain_seq, event.prev_hash) == (1, audit.GENESIS_HASH)
    assert AuditChain.objects.get(key="r:13").seq == 1
    assert list(AuditEvent.objects.filter(chain="r:13").values_list("chain_seq", flat=True)) == [1]
    assert audit.verify_chain() is None
