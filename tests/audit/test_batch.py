"""The events of one transaction written together (issue 9 item 5), tamper evidence unchanged.

``audit.batch()`` defers the events recorded inside to its end, still in the caller's
transaction: per chain one statement locks (or creates) the head and draws the numbers, one
writes the events and moves the head. Outside a batch an event costs the same two statements
(at 34d4ec4: four for an existing chain, six for a new one).
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit import trail as audit
from audit.models import AuditChain, AuditEvent

from .test_chains import FakeRequest

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL statements")
pytestmark = pytest.mark.django_db


def statements(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


@postgres_only
def test_one_event_costs_two_statements_even_on_a_new_chain():
    with CaptureQueriesContext(connection) as first:
        audit.record("request.submitted", request=FakeRequest(1))
    with CaptureQueriesContext(connection) as second:
        audit.record("request.status_changed", request=FakeRequest(1))
    assert len(statements(first)) == 2 and len(statements(second)) == 2
    assert list(AuditEvent.objects.filter(chain="r:1").values_list("chain_seq", flat=True)) == [1, 2]
    assert audit.verify_chain() is None


@postgres_only
def test_a_batch_writes_its_events_with_one_lock_and_one_insert_per_chain():
    audit.record("request.submitted", request=FakeRequest(1))
    with CaptureQueriesContext(connection) as context, transaction.atomic(), audit.batch():
        events = [audit.record("request.viewed", request=FakeRequest(1), data={"i": i}) for i in range(3)]
        other = audit.record("request.submitted", request=FakeRequest(2))
        assert all(e.pk is None for e in events)  # nothing written yet
    assert len(statements(context)) == 4  # two chains, two statements each
    assert [(e.chain, e.chain_seq) for e in events] == [("r:1", 2), ("r:1", 3), ("r:1", 4)]
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert (other.chain, other.chain_seq) == ("r:2", 1)
    assert events[0].seq < events[1].seq < events[2].seq
    stored = list(AuditEvent.objects.filter(chain="r:1").order_by("chain_seq").values_list("pk", "data"))
    assert [pk for pk, _ in stored[1:]] == [e.pk for e in events] and [d for _, d in stored[1:]] == [
        {"i": 0}, {"i": 1}, {"i": 2}]
    assert dict(AuditChain.objects.values_list("key", "seq")) == {"r:1": 4, "r:2": 1}
    assert audit.verify_chain() is None


def test_an_event_of_a_rolled_back_savepoint_is_dropped_with_it():
    with transaction.atomic(), audit.batch():
        kept = audit.record("test.kept", request=FakeRequest(3))
        with pytest.raises(RuntimeError), transaction.atomic():
            audit.record("test.rolled_back", request=FakeRequest(3))
            raise RuntimeError("business change failed")
        also = audit.record("test.kept_too", request=FakeRequest(3))
    assert list(AuditEvent.objects.filter(chain="r:3").order_by("chain_seq").values_list("chain_seq", "action")) == [
        (1, "test.kept"), (2, "test.kept_too")]
    assert (kept.chain_seq, also.chain_seq) == (1, 2)
    assert not connection.run_on_commit or all(
        getattr(func, "__name__", "") != "marker" for _s, func, _r in connection.run_on_commit)
    assert audit.verify_chain() is None


def test_a_failing_block_writes_nothing_and_a_nested_batch_joins_the_outer_one():
    with pytest.raises(RuntimeError), transaction.atomic(), audit.batch():
        audit.record("test.lost", request=FakeRequest(4))
        raise RuntimeError("failed")
    assert not AuditEvent.objects.filter(chain="r:4").exists()
    with transaction.atomic(), audit.batch():
        with audit.batch():
            inner = audit.record("test.inner", request=FakeRequest(4))
        assert inner.pk is None  # written at the end of the outer batch
        audit.record("test.outer", request=FakeRequest(4))
    assert list(AuditEvent.objects.filter(chain="r:4").order_by("chain_seq").values_list("action", flat=True)) == [
        "test.inner", "test.outer"]
    assert audit.verify_chain() is None

