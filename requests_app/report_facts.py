"""The transparency report's first times written with the move that sets them (issue 9 item 5).

``first_acknowledged_at`` / ``first_produced_at`` / ``first_preserved_at`` are the time of a
request's first ``request.status_changed`` event into the states of ``reports.FIRST_MOVE_INTO``.
The audit trigger (migrations 0025/0029) sets them when that event is inserted: a second UPDATE
of the request, after the move's own, in the same transaction, i.e. one more row version of the
whole row in every index (~0.3 ms of PostgreSQL per submission). Inside an ``audit.batch()`` on
PostgreSQL the events' time can be read before the move is saved (``audit.trail.instant``), so
the move's UPDATE stores it and the trigger, finding the column already at the event's time,
writes nothing. The stored values are exactly those of before: the events carry that very
time, or, if another writer appended to the request's chain in between (its time may not go
back), they get the usual time and the facts are recomputed from the trail in the transaction.

Python's copy of the row may be older than the stored facts; migration 0031's BEFORE trigger
keeps the earlier of stored and written time in a status move, so a stale copy never raises one.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from audit import trail as audit

from .models import LegalRequest
from .reports import FIRST_MOVE_INTO


def _in(states: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{s}'" for s in states) + ")"


_COLUMNS = tuple(FIRST_MOVE_INTO)
# The facts of one request from the trail, as the backfill of 0025 derives them; written only if
# they differ. No status move in it, so 0031's trigger leaves the values as computed.
_RECOMPUTE = (
    f"UPDATE {LegalRequest._meta.db_table} r SET "  # noqa: S608 (constants only)
    + ", ".join(f"{c} = m.{c}" for c in _COLUMNS)
    + " FROM (SELECT "
    + ", ".join(f"MIN(e.occurred_at) FILTER (WHERE e.data ->> 'to' IN {_in(states)}) AS {c}"
                for c, states in FIRST_MOVE_INTO.items())
    + " FROM requests_app_auditevent e WHERE e.request_id = %s AND e.action = 'request.status_changed') m"
    + " WHERE r.id = %s AND (" + ", ".join(f"r.{c}" for c in _COLUMNS) + ") IS DISTINCT FROM ("
    + ", ".join(f"m.{c}" for c in _COLUMNS) + ") RETURNING " + ", ".join(f"r.{c}" for c in _COLUMNS)
)


def written_with_move(request: LegalRequest, target: str) -> list[str]:
    """Set on ``request`` the first times its move into ``target`` sets, at the time its audit
    event will carry, and return their names for the move's ``update_fields``; none outside an
    audit batch or on SQLite (the audit trigger writes them, as before)."""
    # Already set: an earlier event holds it (the trigger lowers it should this one be earlier).
    columns = [c for c, states in FIRST_MOVE_INTO.items() if target in states and request.__dict__.get(c) is None]
    if not columns:
        return []
    at = audit.instant(request, lambda: _recompute(request))
    if at is None:
        return []
    for column in columns:
        setattr(request, column, at)
    return columns


def _recompute(request: LegalRequest) -> None:
    """The events did not keep the time written with the move: the facts from the trail."""
    with connection.cursor() as cursor:
        cursor.execute(_RECOMPUTE, [request.pk, request.pk])
        row: Any = cursor.fetchone()
    if row is not None:
        for column, value in zip(_COLUMNS, row, strict=True):
            setattr(request, column, value)
