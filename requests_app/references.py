"""Readable, unique request references: ``LRP-2026-000042``.

On PostgreSQL the number comes from a sequence (no lock, unique under any concurrency; a
rolled-back submission leaves a gap, which is harmless and documented). On SQLite, whose
IMMEDIATE transactions already serialise writers, a per-year counter row is incremented.
The UNIQUE constraint on ``reference`` is the last line of defence either way.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import F

from .models import ReferenceCounter

PREFIX = "LRP"
SEQUENCE_NAME = "requests_app_reference_seq"


def next_reference(at: datetime) -> str:
    return _formatted(at, _next_number(at.year))


def _formatted(at: datetime, number: int) -> str:
    return f"{PREFIX}-{at.year}-{number:06d}"


def next_reference_and_audit_number(at: datetime) -> tuple[str, int | None]:
    """A new reference and, on PostgreSQL, the global number of the request's first audit event
    (``audit.trail.record(numbers=...)``), drawn in one statement: the intake's two sequence
    round trips made one (issue 9 item 5, stop 33). On SQLite (None) the trail numbers its events."""
    if connection.vendor != "postgresql":
        return next_reference(at), None
    from audit import trail

    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s), nextval(%s)", [SEQUENCE_NAME, trail.SEQUENCE])
        number, audit_number = cursor.fetchone()
    return _formatted(at, int(number)), int(audit_number)


def _next_number(year: int) -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [SEQUENCE_NAME])
            return int(cursor.fetchone()[0])
    ReferenceCounter.objects.get_or_create(year=year)
    ReferenceCounter.objects.filter(year=year).update(last_number=F("last_number") + 1)
    return ReferenceCounter.objects.get(year=year).last_number
