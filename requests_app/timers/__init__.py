"""Timers: the one module that schedules, cancels, re-schedules and fires them.

Deadlines, windows and expiries are ``Timer`` rows (``models/timers.py``), never long-ETA
Celery tasks. Nothing else in the code queries or writes that table.

- ``scheduling``: ``schedule_deadlines`` turns a rules decision into rows and the request's
  ``due_at``/``warn_at``/``breach_at``/``hold_until``; ``schedule`` adds one row;
  ``cancel`` / ``pause_deadlines`` / ``reschedule_deadlines`` end open rows. Only live
  (not cancelled) rows are unique per (request, kind, due_at), so a timer cancelled and
  scheduled again at the same instant exists again.
- ``handlers``: what happens when each kind falls due.
- ``firing``: the beat sweep. Each timer fires in its own transaction; a handler that raises
  is rolled back, counted (``attempts``, ``last_error``), retried with exponential backoff
  (``next_attempt_at``) and after the last try parked as a dead letter (``dead_at``), which
  the legal admin retries or discards (``services/dead_letters.py``).
"""

from ..models.timers import Timer, TimerKind
from .firing import dead_letter_discard, dead_letter_retry, fire, fire_due
from .scheduling import (
    DEADLINE_KINDS,
    PRIMARY_KINDS,
    cancel,
    levels,
    pause_deadlines,
    reschedule_deadlines,
    schedule,
    schedule_deadlines,
)

__all__ = [
    "DEADLINE_KINDS",
    "PRIMARY_KINDS",
    "Timer",
    "TimerKind",
    "cancel",
    "dead_letter_discard",
    "dead_letter_retry",
    "fire",
    "fire_due",
    "levels",
    "pause_deadlines",
    "reschedule_deadlines",
    "schedule",
    "schedule_deadlines",
]
