"""Every deadline kind the rules engine can emit is a ``TimerKind`` (one vocabulary): an
unknown kind would fail when its timer is scheduled."""

from __future__ import annotations

import re
from pathlib import Path

import requests_app.rules as rules
from requests_app.models.timers import TimerKind
from requests_app.timers.handlers import HANDLERS

CALL = re.compile(r"\b(?:hours_deadline|day_deadline|Deadline)\(\s*(?:kind=)?\"([a-z0-9_]+)\"")


def emitted_kinds() -> set[str]:
    source = "\n".join(p.read_text() for p in Path(rules.__file__).parent.glob("*.py"))
    return set(CALL.findall(source))


def test_the_engine_emits_only_timer_kinds():
    kinds = emitted_kinds()
    assert {"production_due", "preservation_expiry", "ea_window_end", "dsa_receipt_ack_due"} <= kinds
    assert kinds - set(TimerKind.values) == set()


def test_every_handler_is_for_a_timer_kind():
    assert set(HANDLERS) <= set(TimerKind.values)
