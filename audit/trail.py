"""Writing and verifying the hash-chained audit trail.

Each row stores ``hash = SHA-256(prev_hash || canonical JSON of its content)``. Appends are
serialised by a row lock on the chain head, taken as late as possible in the caller's
transaction, so the lock is held only for the insert and the commit. ``verify_chain`` walks
the chain and names the first broken link: a modified row (its hash no longer matches), a
deleted row (a gap in ``seq`` or a wrong ``prev_hash``) or an inserted row (a wrong
``prev_hash`` on the row after it, or a head that does not match the last row).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)


def _plain(data: dict[str, Any] | None) -> dict[str, Any]:
    """The data as it reads back from a JSON column, so the hash survives a round trip."""
    return json.loads(_canonical(data or {}))


def compute_hash(event: AuditEvent) -> str:
    content = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
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
    return hashlib.sha256((event.prev_hash + _canonical(content)).encode()).hexdigest()


def actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "email", "") or getattr(actor, "username", "") or f"user:{actor.pk}"


def record(
    action: str,
    *,
    actor: Any = None,
    request: Any = None,
    obj: Any = None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
    authority_id: int | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction (fail closed)."""
    if obj is None:
        obj = request
    if authority_id is None:
        authority_id = getattr(actor, "authority_id", None)
    # Inside the caller's transaction no savepoint is needed: any failure rolls it all back.
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        event = AuditEvent(
            seq=head.seq + 1,
            occurred_at=timezone.now(),
            action=action,
            actor_id=getattr(actor, "pk", None),
            actor_label=actor_label(actor),
            authority_id=authority_id,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            request_id=getattr(request, "pk", None),
            data=_plain(data),
            ip_address=ip_address,
            prev_hash=head.hash,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event


def _locked_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # Only on an empty database (the migration creates the row; a flush removes it). If
        # events exist, a new genesis head makes verify_chain report the mismatch.
        AuditChainHead.objects.bulk_create([AuditChainHead(pk=1, seq=0, hash=GENESIS_HASH)], ignore_conflicts=True)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"audit chain broken at seq {self.seq}: {self.problem}"


def _walk(events: Iterator[AuditEvent]) -> tuple[BrokenLink | None, int, str]:
    expected_seq, prev_hash, prev_at = 1, GENESIS_HASH, None
    # Events are numbered under the head's row lock with the time read after it, so time only
    # moves forward along the chain; a step back beyond the hosts' clock skew means an event
    # was backdated or put in later (a chain recomputed by someone who could write the table).
    tolerance = timedelta(seconds=settings.AUDIT_CLOCK_SKEW_SECONDS)
    for event in events:
        if event.seq != expected_seq:
            return BrokenLink(expected_seq, f"row missing (next row found is seq {event.seq})"), 0, ""
        if event.prev_hash != prev_hash:
            return BrokenLink(event.seq, "prev_hash does not match the row before (row inserted or replaced)"), 0, ""
        if compute_hash(event) != event.hash:
            return BrokenLink(event.seq, "content does not match its hash (row modified)"), 0, ""
        if prev_at is not None and event.occurred_at < prev_at - tolerance:
            return BrokenLink(event.seq, f"time goes backwards ({event.occurred_at.isoformat()} after "
                                         f"{prev_at.isoformat()}): event backdated or inserted"), 0, ""
        expected_seq, prev_hash, prev_at = event.seq + 1, event.hash, event.occurred_at
    return None, expected_seq - 1, prev_hash


def verify_chain(using: str = "default") -> BrokenLink | None:
    """Return the first broken link, or None when the whole chain is intact."""
    events = AuditEvent.objects.using(using).order_by("seq").iterator(chunk_size=2000)
    broken, last_seq, last_hash = _walk(events)
    if broken:
        return broken
    head = AuditChainHead.objects.using(using).filter(pk=1).first() or AuditChainHead(seq=0, hash=GENESIS_HASH)
    if (head.seq, head.hash) != (last_seq, last_hash if last_seq else GENESIS_HASH):
        problem = (
            f"rows after seq {head.seq} were appended behind the chain head"
            if head.seq < last_seq
            else f"chain head says seq {head.seq}: rows missing at the end or head altered"
        )
        return BrokenLink(min(head.seq, last_seq) + 1, problem)
    return None


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
# each anchor is (seq, hash) of the head at a moment, with an HMAC under a key the database
# never sees. ``verify_audit --anchors FILE`` checks every anchor is still in the chain.


def _anchor_mac(seq: int, digest: str, at: str, key: str) -> str:
    return hmac.new(key.encode(), f"{seq}|{digest}|{at}".encode(), hashlib.sha256).hexdigest()


def make_anchor(key: str) -> dict[str, Any]:
    head = AuditChainHead.objects.filter(pk=1).first()
    seq, digest = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    at = timezone.now().isoformat()
    return {"seq": seq, "hash": digest, "at": at, "mac": _anchor_mac(seq, digest, at, key)}


def check_anchor(anchor: dict[str, Any], key: str) -> str | None:
    """None when the anchor is authentic and its row still carries the anchored hash."""
    if not hmac.compare_digest(anchor["mac"], _anchor_mac(anchor["seq"], anchor["hash"], anchor["at"], key)):
        return f"anchor at seq {anchor['seq']} has a bad MAC (anchor file altered or wrong key)"
    if anchor["seq"] == 0:
        return None
    row = AuditEvent.objects.filter(seq=anchor["seq"]).values_list("hash", flat=True).first()
    if row is None:
        return f"anchored row seq {anchor['seq']} is missing (chain truncated or rewritten)"
    if row != anchor["hash"]:
        return f"anchored row seq {anchor['seq']} has another hash (chain rewritten)"
    return None


def append_anchor(path: str, key: str) -> dict[str, Any]:
    """Append one signed anchor as a JSON line to ``path`` (storage the database host cannot
    write: a WORM bucket mount, another machine's share) and flush it to disk."""
    import os

    anchor = make_anchor(key)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(anchor, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return anchor
