"""One chain per request, shards for the rest, a seal chain over the heads (issue 10 item 6 / 9 item 6).

No global lock: appending an event for one request never waits for a transaction that holds
another request's chain. Tamper evidence is kept: each chain, each head and the seal chain
verify exactly, and ``verify_audit`` fails on modification, deletion, reordering, a removed
chain and time going backwards.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction

from audit import trail as audit
from audit.models import LEGACY_CHAIN, AuditChain, AuditEvent, AuditSeal

TABLE = "requests_app_auditevent"
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and triggers: PostgreSQL")


class FakeRequest:
    """Stands for a LegalRequest: the trail needs only ``pk`` and ``_meta.label_lower``."""

    class _meta:  # noqa: N801
        label_lower = "requests_app.legalrequest"

    def __init__(self, pk: int) -> None:
        self.pk = pk


def tamper(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params or [])
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def broken_message() -> str:
    with pytest.raises(CommandError) as info:
        call_command("verify_audit")
    return str(info.value)


@pytest.mark.django_db
def test_each_request_has_its_own_chain_and_the_rest_one_shard_per_thread(capsys):
    a, b = FakeRequest(101), FakeRequest(202)
    e1 = audit.record("request.submitted", request=a)
    e2 = audit.record("request.submitted", request=b)
    e3 = audit.record("request.status_changed", request=a)
    g1, g2 = audit.record("token.issued"), audit.record("token.revoked")
    assert (e1.chain, e1.chain_seq, e1.prev_hash) == ("r:101", 1, audit.GENESIS_HASH)
    assert (e2.chain, e2.chain_seq) == ("r:202", 1)
    assert (e3.chain, e3.chain_seq, e3.prev_hash) == ("r:101", 2, e1.hash)
    assert g1.chain == g2.chain and g1.chain.startswith("g:") and (g1.chain_seq, g2.chain_seq) == (1, 2)
    assert e1.seq < e2.seq < e3.seq < g1.seq < g2.seq  # one global order
    assert dict(AuditChain.objects.values_list("key", "seq")) == {"r:101": 2, "r:202": 1, g1.chain: 2}
    assert audit.verify_chain() is None
    call_command("verify_audit")
    assert "audit chain intact: 5 events in 3 chains" in capsys.readouterr().out


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_request_never_waits_for_another_requests_audit_lock():
    """Fails with the single chain head: the second writer waited for the first's commit."""
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_request_one() -> None:
        try:
            with transaction.atomic():
                audit.record("request.submitted", request=FakeRequest(1))
                holding.set()
                release.wait(timeout=30)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold_request_one)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '500ms'")
            other = audit.record("request.submitted", request=FakeRequest(2))  # no wait, no timeout
            also = audit.record("login.succeeded")  # a shard chain: no wait either
    finally:
        release.set()
        thread.join(timeout=30)
    assert not errors, errors
    assert (other.chain, also.chain_seq) == ("r:2", 1)
    assert audit.verify_chain() is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_one_request_still_give_a_gapless_chain():
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def append() -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(5):
                with transaction.atomic():
                    audit.record("request.viewed", request=FakeRequest(7))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert list(AuditEvent.objects.filter(chain="r:7").order_by("chain_seq").values_list("chain_seq", flat=True)) == \
        list(range(1, 41))
    assert audit.verify_chain() is None


# --- Seals ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_seal_holds_the_heads_that_moved_and_only_those():
    audit.record("request.submitted", request=FakeRequest(1))
    audit.record("request.submitted", request=FakeRequest(2))
    first = audit.seal()
    assert first is not None and first.seq == 1 and first.prev_hash == audit.GENESIS_HASH
    assert [key for key, _, _ in first.heads] == ["r:1", "r:2"]
    assert audit.seal() is None  # nothing moved
    moved = audit.record("request.status_changed", request=FakeRequest(2))
    second = audit.seal()
    assert second.heads == [["r:2", 2, moved.hash]] and second.prev_hash == first.hash
    assert set(AuditChain.objects.values_list("key", "sealed_seq")) == {("r:1", 1), ("r:2", 2)}
    assert audit.verify_chain() is None


@postgres_only
@pytest.mark.django_db
def test_a_sealed_request_chain_deleted_with_its_head_is_detected():
    """Without the seal, removing a whole request's events and head would leave no trace."""
    audit.record("request.submitted", request=FakeRequest(5))
    audit.record("request.status_changed", request=FakeRequest(5))
    audit.record("request.submitted", request=FakeRequest(6))
    audit.seal()
    tamper(f"DELETE FROM {TABLE} WHERE chain = 'r:5'")
    AuditChain.objects.filter(key="r:5").delete()
    broken = audit.verify_chain()
    assert broken is not None and broken.chain == "r:5" and "chain deleted" in broken.problem
    assert "audit chain r:5 broken at seq 1" in broken_message()


@postgres_only
@pytest.mark.django_db
def test_a_head_deleted_under_its_rows_is_detected():
    audit.record("request.submitted", request=FakeRequest(5))
    AuditChain.objects.filter(key="r:5").delete()
    broken = audit.verify_chain()
    assert broken is not None and broken.chain == "r:5" and "without a chain head" in broken.problem


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("sql,problem", [
    ("UPDATE audit_seal SET heads = '[]' WHERE seq = 1", "seal modified"),
    ("DELETE FROM audit_seal WHERE seq = 1", "seal missing"),
], ids=["modified", "deleted"])
def test_a_tampered_seal_is_detected(sql, problem):
    audit.record("request.submitted", request=FakeRequest(1))
    audit.seal()
    audit.record("request.submitted", request=FakeRequest(2))
    audit.seal()
    tamper(sql)
    broken = audit.verify_chain()
    assert broken is not None and broken.chain == "seals" and problem in broken.problem
    assert "audit chain seals broken at seq 1" in broken_message()


@postgres_only
@pytest.mark.django_db
def test_two_events_swapped_in_their_chain_are_detected():
    """Reordering: positions exchanged (even with every hash recomputed the links break)."""
    events = [audit.record("request.viewed", request=FakeRequest(3), data={"i": i}) for i in range(3)]
    tamper(f"UPDATE {TABLE} SET chain_seq = chain_seq + 100 WHERE id IN (%s, %s)", [events[0].pk, events[1].pk])
    tamper(f"UPDATE {TABLE} SET chain_seq = 2 WHERE id = %s", [events[0].pk])
    tamper(f"UPDATE {TABLE} SET chain_seq = 1 WHERE id = %s", [events[1].pk])
    broken = audit.verify_chain()
    assert broken is not None and (broken.chain, broken.seq) == ("r:3", 1) and "prev_hash" in broken.problem


@postgres_only
@pytest.mark.django_db
def test_time_going_backwards_along_a_request_chain_is_detected(settings):
    import time_machine
    from django.utils import timezone

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        audit.record("request.submitted", request=FakeRequest(9))
    with time_machine.travel(start - timedelta(minutes=5), tick=False):  # a host whose clock went back
        audit.record("request.status_changed", request=FakeRequest(9))
    broken = audit.verify_chain()
    assert broken is not None and (broken.chain, broken.seq) == ("r:9", 2) and "time goes backwards" in broken.problem
    settings.AUDIT_CLOCK_SKEW_SECONDS = 600
    assert audit.verify_chain() is None


@pytest.mark.django_db
def test_seal_task_is_on_beat(settings):
    from audit import tasks

    assert settings.CELERY_BEAT_SCHEDULE["seal-audit"]["task"] == "audit.tasks.seal_audit"
    assert tasks.seal_audit() is None
    audit.record("request.submitted", request=FakeRequest(1))
    assert tasks.seal_audit() == 1
    assert AuditSeal.objects.count() == 1


# --- The legacy single chain (rows written before the split) -------------------------------------


def legacy_rows(n: int) -> list[AuditEvent]:
    """Rows as the single-chain writer stored them: chain "", no chain_seq, hash without them."""
    from django.utils import timezone

    prev, rows = audit.GENESIS_HASH, []
    for seq in range(1, n + 1):
        row = AuditEvent(seq=seq, chain=LEGACY_CHAIN, chain_seq=None, occurred_at=timezone.now(),
                         action="request.submitted", actor_label="system", data={"n": seq}, prev_hash=prev)
        row.hash = audit.compute_hash(row)
        row.save(force_insert=True)
        rows.append(row)
        prev = row.hash
    AuditChain.objects.create(key=LEGACY_CHAIN, seq=n, hash=prev)
    return rows


@pytest.mark.django_db
def test_legacy_rows_verify_beside_new_chains_and_are_sealed():
    legacy_rows(3)
    audit.record("request.submitted", request=FakeRequest(1))
    assert audit.verify_chain() is None
    assert sorted(key for key, _, _ in audit.seal().heads) == ["", "r:1"]
    assert audit.verify_chain() is None


@postgres_only
@pytest.mark.django_db
def test_a_deleted_legacy_row_is_still_detected():
    legacy_rows(3)
    tamper(f"DELETE FROM {TABLE} WHERE seq = 2 AND chain = ''")
    broken = audit.verify_chain()
    assert broken is not None and (broken.chain, broken.seq) == ("", 2) and "row missing" in broken.problem
