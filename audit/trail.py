"""Writing and verifying the hash-chained audit trail.

The trail is many chains (``audit/models.py``): the events of one request form the chain
``r:<request id>``, other events one of ``AUDIT_GLOBAL_CHAINS`` shards ``g:<n>`` (one per
process and thread, so one transaction uses one shard). Each event stores
``hash = SHA-256(prev_hash || canonical JSON of its content)``, ``prev_hash`` being the hash of
the previous event *of its chain*. Appends lock only their chain's head row, taken as late as
possible in the caller's transaction, so the lock is held only for the insert and the commit,
and two requests never wait for each other; a transaction that records several events of the
same chain locks that head once (a row it already holds does not wait).

``seal()`` (beat, every ``AUDIT_SEAL_INTERVAL_SECONDS``) hashes the heads that moved into the
seal chain; the external anchors sign the newest seal. ``verify_chain`` walks every chain and
the seals and names the first broken link: a modified row (its hash no longer matches), a
deleted row (a gap in the chain's positions or a wrong ``prev_hash``), an inserted or reordered
row (a wrong ``prev_hash`` on the row after it, or a head that does not match the last row),
time going backwards along a chain, a chain or head removed or rewound behind a seal.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from .models import LEGACY_CHAIN, AuditChain, AuditEvent, AuditSeal

GENESIS_HASH = "0" * 64
SEQUENCE = "audit_event_seq"  # PostgreSQL; created by migration audit 0002


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)


def _plain(data: dict[str, Any] | None) -> dict[str, Any]:
    """The data as it reads back from a JSON column, so the hash survives a round trip."""
    return json.loads(_canonical(data or {}))


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def compute_hash(event: AuditEvent) -> str:
    content: dict[str, Any] = {
        "seq": event.seq,
        "occurred_at": _instant(event.occurred_at),
        "action": event.action,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "authority_id": event.authority_id,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "request_id": event.request_id,
        "data": event.data,
        "ip_address": event.ip_address,
    }
    if isinstance(event.chain, str) and event.chain != LEGACY_CHAIN:
        # Rows of the legacy single chain were hashed without these; every other row binds
        # its chain and position, so it cannot be moved to another chain or place.
        content["chain"] = event.chain
        content["chain_seq"] = event.chain_seq
    return hashlib.sha256((event.prev_hash + _canonical(content)).encode()).hexdigest()


def actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "email", "") or getattr(actor, "username", "") or f"user:{actor.pk}"


def chain_key(request: Any = None) -> str:
    """The chain an event goes to: its request's, else this process's and thread's shard."""
    if getattr(request, "pk", None) is not None:
        return f"r:{request.pk}"
    shards = max(1, int(settings.AUDIT_GLOBAL_CHAINS))
    return f"g:{zlib.crc32(f'{os.getpid()}:{threading.get_ident()}'.encode()) % shards}"


class _Batch:
    """Events recorded inside ``batch()``, each with the marker that tells whether the savepoint
    it was recorded in was rolled back (Django discards the on-commit callbacks of a rolled-back
    savepoint; the markers ride on that)."""

    def __init__(self) -> None:
        self.entries: list[tuple[AuditEvent, Callable[[], None]]] = []
        self.writes: list[tuple[Callable[[], None], Callable[[], None]]] = []
        # chain key -> the instant promised to its events (``instant``) and what to run if the
        # chain's head turns out to be newer than it (another writer appended meanwhile).
        self.pins: dict[str, tuple[datetime, list[Callable[[], None]]]] = {}

    @staticmethod
    def _marker() -> Callable[[], None]:
        def marker() -> None:  # never runs: removed again at the flush
            return None

        transaction.on_commit(marker)
        return marker

    def add(self, event: AuditEvent) -> None:
        self.entries.append((event, self._marker()))

    def add_write(self, write: Callable[[], None]) -> None:
        self.writes.append((write, self._marker()))

    def take(self) -> tuple[list[AuditEvent], list[Callable[[], None]]]:
        """The events and writes still standing (their savepoints not rolled back), markers removed."""
        conn = transaction.get_connection()
        alive = {id(func) for _sids, func, _robust in conn.run_on_commit}
        mine = {id(marker) for _item, marker in [*self.entries, *self.writes]}
        conn.run_on_commit = [entry for entry in conn.run_on_commit if id(entry[1]) not in mine]
        return ([event for event, marker in self.entries if id(marker) in alive],
                [write for write, marker in self.writes if id(marker) in alive])


_local = threading.local()


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Write the events recorded inside at its end, still in the caller's transaction: one head
    lock, one statement for the events and the head per chain, instead of both per event.

    The chain heads are taken in key order at the end (so two batches never wait for each
    other in opposite orders), the events of one chain keep the order they were recorded in,
    and their time is read after the lock like any event's. Events recorded in a savepoint
    that was rolled back are dropped with it; if the block raises nothing is written (the
    transaction is rolled back anyway). Outside a transaction, or inside another batch, the
    events are written as ``record`` is called / at the end of the outer batch. The events
    ``record`` returns inside a batch get their position and hash at the end of it.
    """
    if getattr(_local, "batch", None) is not None or not transaction.get_connection().in_atomic_block:
        yield
        return
    pending = _local.batch = _Batch()
    try:
        yield
    except BaseException:
        _local.batch = None
        pending.take()  # the markers go; nothing is written
        raise
    _local.batch = None
    events, writes = pending.take()
    by_chain: dict[str, list[AuditEvent]] = {}
    for event in events:
        by_chain.setdefault(event.chain, []).append(event)
    with transaction.atomic(savepoint=False):
        for write in writes:  # what the events record is stored before them (before_events)
            write()
        for key in sorted(by_chain):
            pin = pending.pins.get(key)
            if not _append(key, by_chain[key], pin[0] if pin else None) and pin:
                for repair in pin[1]:
                    repair()


def batching() -> bool:
    """Whether the events recorded now are written at the end of an open ``batch()``."""
    return getattr(_local, "batch", None) is not None


def before_events(write: Callable[[], None]) -> None:
    """Run ``write`` at the end of the open ``batch()``, in its transaction, just before its
    events are written: a change an event records and the caller may still be completing (a
    state move whose row is saved with a later one, ``workflow.transition(defer_save=True)``)
    is stored by then at the latest, so no event is written without it. Dropped with the
    savepoint it was registered in, like the events."""
    pending: _Batch | None = getattr(_local, "batch", None)
    if pending is None:
        raise RuntimeError("audit.before_events needs an open audit.batch()")
    pending.add_write(write)


def instant(request: Any, if_not_kept: Callable[[], None]) -> datetime | None:
    """The ``occurred_at`` the events of ``request``'s chain recorded in the open ``batch()``
    will carry (PostgreSQL), read now, so that a row written before them can store it (the
    report's first times in the decision's own UPDATE, issue 9 item 5). None outside a batch
    or on SQLite. Kept at the end of the batch when the chain's newest event is not later
    (time still only moves forward along the chain); otherwise (a writer appended to the chain
    in between, or a head from before its time was stored) the events get the time read after
    the lock as usual, and ``if_not_kept`` runs after they are stored, in the transaction."""
    pending: _Batch | None = getattr(_local, "batch", None)
    if pending is None or connection.vendor != "postgresql" or getattr(request, "pk", None) is None:
        return None
    key = chain_key(request)
    if key not in pending.pins:
        pending.pins[key] = (timezone.now(), [])
    at, repairs = pending.pins[key]
    repairs.append(if_not_kept)
    return at


def record(
    action: str,
    *,
    actor: Any = None,
    request: Any = None,
    obj: Any = None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
    authority_id: int | None = None,
    new_chain: bool = False,
    numbers: list[int] | None = None,
) -> AuditEvent:
    """Append one event to its chain, inside the caller's transaction (fail closed); inside
    ``batch()``, at the end of the batch.

    ``new_chain``: ``request`` was inserted in the caller's transaction and this is the first
    event of its chain (the intake's ``request.submitted``): no other transaction can know the
    request's id yet, so its chain's head is created with the event in one statement instead
    of being created, locked and then moved (one row version and index entry fewer, issue 9
    item 5). A head that exists all the same (an id used before) fails the transaction on the
    head's and the positions' unique indexes; nothing is written twice. Ignored inside a batch.

    ``numbers`` (with ``new_chain``, PostgreSQL): the event's global number, drawn by the caller
    from ``SEQUENCE`` in one of its own statements, in this transaction (the intake draws it
    with the request's reference): the event is numbered with it instead of a draw of its own.
    Anywhere else it is refused (ValueError) rather than dropped."""
    if obj is None:
        obj = request
    if authority_id is None:
        authority_id = getattr(actor, "authority_id", None)
    event = AuditEvent(
        chain=chain_key(request),
        action=action,
        actor_id=getattr(actor, "pk", None),
        actor_label=actor_label(actor),
        authority_id=authority_id,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        request_id=getattr(request, "pk", None),
        data=_plain(data),
        ip_address=_IP_FIELD.get_prep_value(ip_address) if ip_address else ip_address,
    )
    pending: _Batch | None = getattr(_local, "batch", None)
    if numbers is not None and (pending is not None or not new_chain or request is None or len(numbers) != 1
                                or connection.vendor != "postgresql"):
        # A number drawn for this event and not used would be a silent gap, and a mistake of the caller.
        raise ValueError("numbers: one drawn number, for the first event of a new chain on PostgreSQL, "
                         "outside a batch")
    if pending is not None:
        pending.add(event)
        return event
    # Inside the caller's transaction no savepoint is needed: any failure rolls it all back.
    with transaction.atomic(savepoint=False):
        if new_chain and request is not None and connection.vendor == "postgresql":
            _append_new_chain(event.chain, [event], numbers)
        else:
            _append(event.chain, [event])
    return event


_IP_FIELD = AuditEvent._meta.get_field("ip_address")
_COLUMNS = ("seq", "chain", "chain_seq", "occurred_at", "action", "actor_id", "actor_label", "authority_id",
            "object_type", "object_id", "request_id", "data", "ip_address", "prev_hash", "hash")
_ROW = "(" + ", ".join("%s::jsonb" if c == "data" else "%s::inet" if c == "ip_address" else "%s"
                       for c in _COLUMNS) + ")"
# Creates the head of a new chain or locks the existing one, and draws the events' global
# numbers after the lock, so they increase along the chain. ``last_at``: the time of the
# chain's newest event (NULL for a new chain and for heads older than audit 0005). An existing
# head is locked by ``FOR UPDATE`` (which, waiting for a concurrent writer, returns the version
# it committed), not by a no-op update: the head gets one row version per append, the move
# below, not two (issue 9 item 5). The insert of a new head is not visible to the locking read
# of the same statement, so exactly one of the two returns the head; none does when another
# transaction created the same head meanwhile (its row is not in this statement's snapshot):
# then ``_LOCK_HEAD_AGAIN``, the upsert that locks whatever version is committed.
_LOCK_HEAD = (
    "WITH created AS (INSERT INTO audit_chain (key, seq, hash, sealed_seq) VALUES (%s, 0, %s, 0) "
    "ON CONFLICT (key) DO NOTHING RETURNING seq, hash, last_at), "
    "existing AS (SELECT seq, hash, last_at FROM audit_chain WHERE key = %s FOR UPDATE) "
    "SELECT h.seq, h.hash, h.last_at, ARRAY(SELECT nextval(%s::regclass) FROM generate_series(1, %s)) "
    "FROM (SELECT * FROM created UNION ALL SELECT * FROM existing) h"
)
_LOCK_HEAD_AGAIN = (
    "INSERT INTO audit_chain (key, seq, hash, sealed_seq) VALUES (%s, 0, %s, 0) "
    "ON CONFLICT (key) DO UPDATE SET seq = audit_chain.seq "
    "RETURNING seq, hash, last_at, ARRAY(SELECT nextval(%s::regclass) FROM generate_series(1, %s))"
)
# The events and the head's move in one statement (only constants are put into the text).
_INSERT = (
    "WITH head AS (UPDATE audit_chain SET seq = %s, hash = %s, last_at = %s WHERE key = %s) "  # noqa: S608
    f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(_COLUMNS)}) VALUES {{rows}} RETURNING id"
)


# A new chain's head is written with its first events (``record(new_chain=True)``); the events'
# global numbers are drawn first, as they are hashed.
_NUMBERS = "SELECT ARRAY(SELECT nextval(%s::regclass) FROM generate_series(1, %s))"
_INSERT_NEW_CHAIN = (
    "WITH head AS (INSERT INTO audit_chain (key, seq, hash, sealed_seq, last_at) VALUES (%s, %s, %s, 0, %s)) "  # noqa: S608
    f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(_COLUMNS)}) VALUES {{rows}} RETURNING id"
)


def _link(events: list[AuditEvent], position: int, prev_hash: str, numbers: list[int],
          now: datetime) -> tuple[int, str, list[Any]]:
    """Positions, numbers, time and hashes of ``events`` after the head (position, hash); the
    head's new position and hash, and the events' INSERT parameters."""
    params: list[Any] = []
    for event, number in zip(events, sorted(numbers), strict=True):
        position += 1
        event.seq, event.chain_seq, event.occurred_at, event.prev_hash = number, position, now, prev_hash
        event.hash = prev_hash = compute_hash(event)
        params += [event.seq, event.chain, event.chain_seq, event.occurred_at, event.action, event.actor_id,
                   event.actor_label, event.authority_id, event.object_type, event.object_id, event.request_id,
                   _canonical(event.data), event.ip_address, event.prev_hash, event.hash]
    return position, prev_hash, params


def _stored(cursor: Any, events: list[AuditEvent]) -> None:
    for event, (pk,) in zip(events, cursor.fetchall(), strict=True):
        event.pk = pk
        event._state.adding, event._state.db = False, connection.alias


def _append_new_chain(key: str, events: list[AuditEvent], numbers: list[int] | None = None) -> None:
    """The first events of a chain no other transaction can know yet, and its head, written
    together (PostgreSQL): no head to lock, none created at position 0 and moved after. Their
    global numbers are drawn here unless the caller drew them (``numbers``, one per event)."""
    with connection.cursor() as cursor:
        if numbers is None:
            cursor.execute(_NUMBERS, [SEQUENCE, len(events)])
            numbers = list(cursor.fetchone()[0])
        now = timezone.now()
        position, head_hash, params = _link(events, 0, GENESIS_HASH, numbers, now)
        cursor.execute(_INSERT_NEW_CHAIN.format(rows=", ".join([_ROW] * len(events))),
                       [key, position, head_hash, now, *params])
        _stored(cursor, events)


def _append(key: str, events: list[AuditEvent], promised: datetime | None = None) -> bool:
    """Link ``events`` (of chain ``key``, in order) to the chain's head, store them, move the
    head. Their time is ``promised`` (see ``instant``) when no event of the chain is later;
    returns whether it was kept."""
    if connection.vendor != "postgresql":
        for event in events:
            _append_one_orm(key, event)
        return False
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_HEAD, [key, GENESIS_HASH, key, SEQUENCE, len(events)])
        head = cursor.fetchone()
        if head is None:  # created by a concurrent transaction since this statement began
            cursor.execute(_LOCK_HEAD_AGAIN, [key, GENESIS_HASH, SEQUENCE, len(events)])
            head = cursor.fetchone()
        position, prev_hash, last_at, numbers = head
        # Read after the lock: time only moves forward along a chain. A time read earlier is
        # as good when the chain's newest event is not later than it (a head without last_at
        # has events of unknown time unless it is new).
        kept = promised is not None and (last_at <= promised if last_at is not None else position == 0)
        now = promised if kept and promised is not None else timezone.now()
        position, prev_hash, params = _link(events, position, prev_hash, numbers, now)
        cursor.execute(_INSERT.format(rows=", ".join([_ROW] * len(events))), [position, prev_hash, now, key, *params])
        _stored(cursor, events)
    return kept


def _append_one_orm(key: str, event: AuditEvent) -> None:
    """SQLite (embedded mode): one writer at a time holds the database lock (IMMEDIATE)."""
    head = AuditChain.objects.select_for_update().filter(key=key).first()
    if head is None:
        AuditChain.objects.bulk_create([AuditChain(key=key, seq=0, hash=GENESIS_HASH)], ignore_conflicts=True)
        head = AuditChain.objects.select_for_update().get(key=key)
    event.seq = int(AuditEvent.objects.aggregate(top=Max("seq"))["top"] or 0) + 1
    event.chain_seq, event.prev_hash = head.seq + 1, head.hash
    event.occurred_at = timezone.now()
    event.hash = compute_hash(event)
    event.save(force_insert=True)
    AuditChain.objects.filter(key=key).update(seq=event.chain_seq, hash=event.hash, last_at=event.occurred_at)


# --- The seal chain ------------------------------------------------------------------------------


def compute_seal_hash(seal: AuditSeal) -> str:
    content = {"seq": seal.seq, "sealed_at": _instant(seal.sealed_at), "heads": seal.heads}
    return hashlib.sha256((seal.prev_hash + _canonical(content)).encode()).hexdigest()


SEAL_BATCH = 5000


def seal() -> AuditSeal | None:
    """Hash the heads of the chains that moved since their last seal into a new seal (None
    when nothing moved). Locks no chain for longer than one UPDATE of its ``sealed_seq``."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # one sealer at a time (the table is append-only)
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('audit_seal'))")
        heads = list(
            AuditChain.objects.filter(seq__gt=F("sealed_seq")).order_by("key").values_list("key", "seq", "hash")[
                :SEAL_BATCH
            ]
        )
        if not heads:
            return None
        last = AuditSeal.objects.order_by("-seq").first()
        new = AuditSeal(
            seq=(last.seq if last else 0) + 1,
            sealed_at=timezone.now(),
            heads=[list(h) for h in heads],
            prev_hash=last.hash if last else GENESIS_HASH,
        )
        new.hash = compute_seal_hash(new)
        new.save(force_insert=True)
        for key, position, _ in heads:
            # Only forward: a writer may have moved the head since it was read.
            AuditChain.objects.filter(key=key, sealed_seq__lt=position).update(sealed_seq=position)
    return new


# --- Verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    problem: str
    chain: str = LEGACY_CHAIN

    def __str__(self) -> str:
        where = f"audit chain {self.chain}" if self.chain else "audit chain"
        return f"{where} broken at seq {self.seq}: {self.problem}"


@dataclass
class Summary:
    events: int = 0
    chains: int = 0
    seals: int = 0
    last_seal_hash: str = GENESIS_HASH


def _chains(events: Iterator[AuditEvent]) -> Iterator[tuple[str, list[AuditEvent]]]:
    current: str | None = None
    rows: list[AuditEvent] = []
    for event in events:
        if event.chain != current and rows:
            yield current or "", rows
            rows = []
        current = event.chain
        rows.append(event)
    if rows:
        yield current or "", rows


def _walk_chain(key: str, events: list[AuditEvent], tolerance: timedelta) -> tuple[BrokenLink | None, int, str]:
    expected, prev_hash, prev_at = 1, GENESIS_HASH, None
    for event in events:
        position = event.position
        if position != expected:
            return BrokenLink(expected, f"row missing (next row found is seq {position})", key), 0, ""
        if event.prev_hash != prev_hash:
            problem = "prev_hash does not match the row before (row inserted or replaced)"
            return BrokenLink(position, problem, key), 0, ""
        if compute_hash(event) != event.hash:
            return BrokenLink(position, "content does not match its hash (row modified)", key), 0, ""
        # Positions are given under the head's row lock with the time read after it, so time
        # only moves forward along a chain; a step back beyond the hosts' clock skew means an
        # event was backdated or put in later (a chain recomputed by someone who could write).
        if prev_at is not None and event.occurred_at < prev_at - tolerance:
            return BrokenLink(position, f"time goes backwards ({event.occurred_at.isoformat()} after "
                                        f"{prev_at.isoformat()}): event backdated or inserted", key), 0, ""
        expected, prev_hash, prev_at = position + 1, event.hash, event.occurred_at
    return None, expected - 1, prev_hash


def _check_head(key: str, head: AuditChain | None, last: int, last_hash: str) -> BrokenLink | None:
    seq, digest = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if (seq, digest) == (last, last_hash if last else GENESIS_HASH):
        return None
    if head is None:
        return BrokenLink(1, "rows without a chain head (head deleted, or rows put in)", key)
    if seq < last:
        return BrokenLink(seq + 1, f"rows after seq {seq} were appended behind the chain head", key)
    return BrokenLink(min(seq, last) + 1, f"chain head says seq {seq}: rows missing at the end or head altered", key)


Vouched = dict[str, dict[int, str]]


def _walk_seals(using: str, tolerance: timedelta) -> tuple[BrokenLink | None, Vouched, Summary]:
    """The seal chain, and the chain → position → hash every seal vouches for."""
    vouched: Vouched = {}
    newest: dict[str, int] = {}
    summary = Summary()
    expected, prev_hash, prev_at = 1, GENESIS_HASH, None
    for s in AuditSeal.objects.using(using).order_by("seq").iterator(chunk_size=500):
        def broken(problem: str, at: int | None = None, s: AuditSeal = s) -> BrokenLink:
            return BrokenLink(at if at is not None else s.seq, problem, "seals")

        if s.seq != expected:
            return broken(f"seal missing (next seal found is seq {s.seq})", expected), vouched, summary
        if s.prev_hash != prev_hash:
            return broken("prev_hash does not match the seal before (seal inserted or replaced)"), vouched, summary
        if compute_seal_hash(s) != s.hash:
            return broken("content does not match its hash (seal modified)"), vouched, summary
        if prev_at is not None and s.sealed_at < prev_at - tolerance:
            return broken("time goes backwards between seals"), vouched, summary
        for key, position, digest in s.heads:
            if position < newest.get(key, 0):
                return broken(f"chain {key!r} goes back from seq {newest[key]} to {position}"), vouched, summary
            newest[key] = position
            vouched.setdefault(key, {})[position] = digest
        expected, prev_hash, prev_at = s.seq + 1, s.hash, s.sealed_at
    summary.seals, summary.last_seal_hash = expected - 1, prev_hash
    return None, vouched, summary


def verify(using: str = "default") -> tuple[BrokenLink | None, Summary]:
    """Verify every chain, every head and the seals; the first broken link and a summary."""
    tolerance = timedelta(seconds=settings.AUDIT_CLOCK_SKEW_SECONDS)
    broken, vouched, summary = _walk_seals(using, tolerance)
    if broken:
        return broken, summary
    heads = {h.key: h for h in AuditChain.objects.using(using).all()}
    seen: set[str] = set()
    events = AuditEvent.objects.using(using).order_by("chain", F("chain_seq").asc(nulls_last=True), "seq")
    for key, rows in _chains(events.iterator(chunk_size=2000)):
        seen.add(key)
        broken, last, last_hash = _walk_chain(key, rows, tolerance)
        broken = broken or _check_head(key, heads.get(key), last, last_hash)
        if broken:
            return broken, summary
        by_position = {e.position: e.hash for e in rows}
        for position, digest in sorted(vouched.get(key, {}).items()):
            if by_position.get(position) != digest:
                return BrokenLink(position, f"the row sealed at seq {position} is gone or has another hash "
                                            "(chain rewritten after it was sealed)", key), summary
        summary.events += len(rows)
        summary.chains += 1
    for key, head in sorted(heads.items()):
        if key not in seen and (head.seq or head.hash != GENESIS_HASH):
            return _check_head(key, head, 0, GENESIS_HASH), summary
    for chain in sorted(set(vouched) - seen):
        return BrokenLink(1, f"a chain sealed up to seq {max(vouched[chain])} has no rows left (chain deleted)",
                          chain), summary
    return None, summary


def verify_chain(using: str = "default") -> BrokenLink | None:
    """Return the first broken link, or None when every chain and seal is intact."""
    return verify(using)[0]


HISTORY_ACTIONS = ("request.submitted", "request.status_changed")


def request_history(request_id: int) -> list[dict[str, Any]]:
    """State changes of one request, oldest first, for the API's ``history``."""
    events = AuditEvent.objects.filter(request_id=request_id, action__in=HISTORY_ACTIONS).only(
        "occurred_at", "data"
    )
    return [
        {"status": e.data.get("to"), "from_status": e.data.get("from"), "at": e.occurred_at} for e in events
    ]


# --- external anchors (security.md §1.7 item 5) -------------------------------------------------
# A database superuser can rewrite the table and recompute the whole chain. Anchors written
# outside the database (a file on other storage, a ticket, a WORM bucket) make that visible:
# each anchor is (seq, hash) of the newest seal at a moment (sealing first, so it covers every
# chain), with an HMAC under a key the database never sees. ``verify_audit --anchors FILE``
# checks every anchored seal is still in the seal chain.


def _anchor_mac(seq: int, digest: str, at: str, key: str) -> str:
    return hmac.new(key.encode(), f"{seq}|{digest}|{at}".encode(), hashlib.sha256).hexdigest()


def make_anchor(key: str) -> dict[str, Any]:
    seal()
    newest = AuditSeal.objects.order_by("-seq").first()
    seq, digest = (newest.seq, newest.hash) if newest else (0, GENESIS_HASH)
    at = timezone.now().isoformat()
    return {"seq": seq, "hash": digest, "at": at, "mac": _anchor_mac(seq, digest, at, key)}


def check_anchor(anchor: dict[str, Any], key: str) -> str | None:
    """None when the anchor is authentic and its seal still carries the anchored hash."""
    if not hmac.compare_digest(anchor["mac"], _anchor_mac(anchor["seq"], anchor["hash"], anchor["at"], key)):
        return f"anchor at seq {anchor['seq']} has a bad MAC (anchor file altered or wrong key)"
    if anchor["seq"] == 0:
        return None
    row = AuditSeal.objects.filter(seq=anchor["seq"]).values_list("hash", flat=True).first()
    if row is None:
        return f"anchored seal seq {anchor['seq']} is missing (seal chain truncated or rewritten)"
    if row != anchor["hash"]:
        return f"anchored seal seq {anchor['seq']} has another hash (chain rewritten)"
    return None


def append_anchor(path: str, key: str) -> dict[str, Any]:
    """Append one signed anchor as a JSON line to ``path`` (storage the database host cannot
    write: a WORM bucket mount, another machine's share) and flush it to disk."""
    anchor = make_anchor(key)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(anchor, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return anchor
