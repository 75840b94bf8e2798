"""The hash-chained audit trail (DESIGN.md §4.5; security.md §1.7 and matrix H1-H4, C6).

Tampering is done the way a database superuser would do it: ``session_replication_role =
replica`` switches the append-only triggers off for the session, then raw SQL rewrites rows.
``verify_audit`` must notice and name the first broken ``seq`` (the position in its chain).

The events a test records without a request all go to one chain (one process and thread, one
shard), so ``chain_seq`` counts them 1, 2, ...; ``seq`` is the global number.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction

from audit import trail as audit
from audit.models import AuditChain, AuditEvent

TABLE = "requests_app_auditevent"

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="triggers and roles: PostgreSQL")


def record_events(n: int) -> list[AuditEvent]:
    return [audit.record(f"test.event_{i}", data={"i": i, "note": "é ✓"}) for i in range(1, n + 1)]


def chain_of(events: list[AuditEvent]) -> str:
    [key] = {e.chain for e in events}
    return key


@contextmanager
def triggers_bypassed():
    """A superuser session with ordinary triggers off (security.md §3.2, 'Tampering')."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def verify_audit_error() -> CommandError:
    with pytest.raises(CommandError) as info:
        call_command("verify_audit")
    assert info.value.returncode != 0  # manage.py exits with it
    return info.value


# --- An intact chain -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_chain_of_events_verifies(capsys):
    events = record_events(5)
    assert [e.chain_seq for e in events] == [1, 2, 3, 4, 5]
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert events[0].prev_hash == audit.GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(events))
    assert audit.verify_chain() is None
    call_command("verify_audit")
    assert "audit chain intact: 5 events" in capsys.readouterr().out
    head = AuditChain.objects.get(key=chain_of(events))
    assert (head.seq, head.hash) == (5, events[-1].hash)


@pytest.mark.django_db
def test_an_empty_chain_verifies():
    assert AuditEvent.objects.count() == 0
    assert audit.verify_chain() is None
    call_command("verify_audit")


@pytest.mark.django_db
def test_awkward_payloads_hash_the_same_after_a_round_trip():
    """Decimals, aware datetimes, control characters and non-ASCII text survive the JSON column."""
    audit.record("test.awkward", data={
        "amount": Decimal("1.10"),
        "when": datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC),
        "text": "line1\r\nline2 \x1b[31mred\x1b[0m {\"fake\": \"json\"}",
        "nested": {"b": [1, 2, {"z": None}], "a": "Grüße"},
    }, ip_address="2001:db8::1")
    assert audit.verify_chain() is None


@pytest.mark.django_db
def test_a_rolled_back_append_leaves_no_gap():
    audit.record("test.kept")
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("test.rolled_back")
        raise RuntimeError("business change failed")
    audit.record("test.kept_too")
    assert list(AuditEvent.objects.values_list("chain_seq", "action")) == [(1, "test.kept"), (2, "test.kept_too")]
    assert audit.verify_chain() is None


# --- Tampering by a superuser who switches the triggers off (H1, H2) ----------------------------


@postgres_only
@pytest.mark.django_db
def test_a_modified_row_is_detected():
    record_events(5)
    with triggers_bypassed() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET data = %s WHERE chain_seq = 3", ['{"i": 3, "note": "changed"}'])
        assert cursor.rowcount == 1
    broken = audit.verify_chain()
    assert broken is not None and broken.seq == 3 and "modified" in broken.problem
    assert "seq 3" in str(verify_audit_error())


@postgres_only
@pytest.mark.django_db
def test_a_modified_actor_is_detected_even_with_its_own_hash_recomputed():
    """Rewriting a row and its own hash breaks the link to the next row."""
    events = record_events(5)
    forged = AuditEvent.objects.get(chain_seq=2)
    forged.actor_label = "someone-else@example.org"
    forged.hash = audit.compute_hash(forged)
    with triggers_bypassed() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET actor_label = %s, hash = %s WHERE chain_seq = 2",
                       [forged.actor_label, forged.hash])
    assert forged.hash != events[1].hash
    assert audit.verify_chain().seq == 3
    assert "seq 3" in str(verify_audit_error())


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("deleted,reported", [(3, 3), (1, 1), (5, 5)], ids=["middle", "first", "last"])
def test_a_deleted_row_is_detected(deleted, reported):
    record_events(5)
    with triggers_bypassed() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE chain_seq = %s", [deleted])
        assert cursor.rowcount == 1
    broken = audit.verify_chain()
    assert broken is not None and broken.seq == reported
    assert f"seq {reported}" in str(verify_audit_error())


@postgres_only
@pytest.mark.django_db
def test_a_deleted_tail_and_rewound_head_is_not_detectable_without_an_external_anchor():
    """Documented limit (security.md §1.7): a superuser who also rewinds the head row wins.

    This pins the limit so that adding the external anchor (H3) shows up as a test to update.
    """
    events = record_events(5)
    with triggers_bypassed() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE chain_seq = 5")
    AuditChain.objects.filter(key=chain_of(events)).update(seq=4, hash=events[3].hash)
    assert audit.verify_chain() is None


@postgres_only
@pytest.mark.django_db
def test_a_deleted_tail_and_rewound_head_is_detected_once_sealed():
    """Once the seal chain holds the head, rewinding it no longer hides the deletion."""
    events = record_events(5)
    assert audit.seal() is not None
    with triggers_bypassed() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE chain_seq = 5")
    AuditChain.objects.filter(key=chain_of(events)).update(seq=4, hash=events[3].hash, sealed_seq=4)
    broken = audit.verify_chain()
    assert broken is not None and broken.seq == 5 and "sealed" in broken.problem
    assert "seq 5" in str(verify_audit_error())


@postgres_only
@pytest.mark.django_db
def test_a_row_inserted_in_the_middle_is_detected():
    key = chain_of(record_events(5))
    with triggers_bypassed() as cursor:
        # Make room at position 3 (two steps: the unique index is checked row by row).
        cursor.execute(f"UPDATE {TABLE} SET chain_seq = chain_seq + 1000 WHERE chain_seq >= 3")
        cursor.execute(f"UPDATE {TABLE} SET chain_seq = chain_seq - 999 WHERE chain_seq >= 1000")
    second = AuditEvent.objects.get(chain_seq=2)
    forged = AuditEvent(seq=second.seq * 1000, chain=key, chain_seq=3, occurred_at=second.occurred_at,
                        action="request.approved", actor_label="forger", prev_hash=second.hash, data={})
    forged.hash = audit.compute_hash(forged)
    with triggers_bypassed():
        forged.save(force_insert=True)
    assert list(AuditEvent.objects.order_by("chain_seq").values_list("chain_seq", flat=True)) == [1, 2, 3, 4, 5, 6]
    broken = audit.verify_chain()
    # The forged row links correctly to seq 2; the row after it no longer does.
    assert broken is not None and broken.seq == 4 and "prev_hash" in broken.problem
    assert "seq 4" in str(verify_audit_error())


@postgres_only
@pytest.mark.django_db
def test_a_naive_row_appended_at_the_end_is_detected():
    key = chain_of(record_events(5))
    with triggers_bypassed() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (seq, chain, chain_seq, occurred_at, action, actor_label, object_type, object_id,"
            " data, prev_hash, hash) VALUES (999999, %s, 6, now(), 'request.approved', 'forger', '', '', '{}', %s, %s)",
            [key, "f" * 64, "e" * 64],
        )
    broken = audit.verify_chain()
    assert broken is not None and broken.seq == 6
    assert "seq 6" in str(verify_audit_error())


@postgres_only
@pytest.mark.django_db
def test_a_well_formed_row_appended_behind_the_heads_back_is_reported_at_its_seq():
    events = record_events(5)
    forged = AuditEvent(seq=events[-1].seq + 1000, chain=chain_of(events), chain_seq=6,
                        occurred_at=events[-1].occurred_at, action="request.approved",
                        actor_label="forger", prev_hash=events[-1].hash, data={})
    forged.hash = audit.compute_hash(forged)
    forged.save(force_insert=True)  # an INSERT: the triggers allow it, only the head is left behind
    broken = audit.verify_chain()
    assert broken is not None
    assert broken.seq == 6 and "appended" in broken.problem
    assert "seq 6" in str(verify_audit_error())


# --- The triggers themselves (no bypass) ---------------------------------------------------------


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("statement", [
    f"UPDATE {TABLE} SET action = 'x' WHERE chain_seq = 1",
    f"UPDATE {TABLE} SET seq = seq + 100",
    f"DELETE FROM {TABLE} WHERE chain_seq = 1",
    f"DELETE FROM {TABLE}",
], ids=["update-one", "update-all", "delete-one", "delete-all"])
def test_triggers_refuse_update_and_delete_even_for_a_superuser(statement):
    record_events(2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.skip("the test role is not a superuser; test_db_roles covers the application role")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(statement)
    assert list(AuditEvent.objects.values_list("chain_seq", "action")) == [(1, "test.event_1"), (2, "test.event_2")]
    assert audit.verify_chain() is None


@postgres_only
@pytest.mark.django_db
def test_a_truncate_by_the_owner_is_detected():
    """TRUNCATE is refused to the application role by privilege (test_db_roles), not by a trigger
    (migration 0002); when the owner truncates the events, the chain head still tells."""
    record_events(3)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}")
    assert AuditEvent.objects.count() == 0
    broken = audit.verify_chain()
    assert broken is not None and broken.seq == 1
    assert "seq 1" in str(verify_audit_error())


@pytest.mark.django_db
def test_the_orm_cannot_update_or_delete_events():
    [event] = record_events(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.action = "changed"
    with pytest.raises(DatabaseError), transaction.atomic():
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event_1"


# --- Concurrent appends (C6) ----------------------------------------------------------------------


THREADS = 20
PER_THREAD = 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_give_a_gapless_intact_chain():
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(PER_THREAD):
                with transaction.atomic():
                    audit.record("test.concurrent", data={"worker": worker, "i": i})
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    total = THREADS * PER_THREAD
    assert AuditEvent.objects.count() == total
    for key in AuditEvent.objects.values_list("chain", flat=True).distinct():  # each chain gapless
        positions = list(AuditEvent.objects.filter(chain=key).order_by("chain_seq").values_list("chain_seq", flat=True))
        assert positions == list(range(1, len(positions) + 1))
    assert sorted(AuditEvent.objects.values_list("data__worker", "data__i")) == sorted(
        (w, i) for w in range(THREADS) for i in range(PER_THREAD)
    )
    assert audit.verify_chain() is None
    call_command("verify_audit")


@postgres_only
@pytest.mark.django_db
def test_a_backdated_event_in_a_recomputed_chain_is_detected(settings):
    """Issue 14 item 11: a chain recomputed around a backdated event still fails, because time
    only moves forward along the chain (beyond AUDIT_CLOCK_SKEW_SECONDS)."""
    import time_machine
    from django.utils import timezone

    start = timezone.now()
    for minute in range(5):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            audit.record(f"test.event_{minute}")
    rows = list(AuditEvent.objects.order_by("chain_seq"))
    rows[3].occurred_at = start - timedelta(hours=1)  # seq 4: "it happened before the others"
    prev = rows[2].hash
    with triggers_bypassed() as cursor:
        for row in rows[3:]:
            row.prev_hash = prev
            row.hash = audit.compute_hash(row)
            prev = row.hash
            cursor.execute(f"UPDATE {TABLE} SET occurred_at = %s, prev_hash = %s, hash = %s WHERE id = %s",
                           [row.occurred_at, row.prev_hash, row.hash, row.pk])
        AuditChain.objects.filter(key=chain_of(rows)).update(hash=prev)
    broken = audit.verify_chain()
    assert broken is not None and broken.seq == 4 and "time goes backwards" in broken.problem
    # Within the tolerated clock skew of the hosts, a small step back is not an alarm.
    settings.AUDIT_CLOCK_SKEW_SECONDS = 2 * 3600
    assert audit.verify_chain() is None
