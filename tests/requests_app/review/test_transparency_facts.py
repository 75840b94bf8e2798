"""The transparency report's facts stored on the request (migration 0025_transparency_report_facts):
after real transitions through the services they equal what the audit trail (the system of
record), the targets and the applied Annex VI extensions say; a stale full save cannot undo
them; the backfill derives them for rows written before the triggers; and the check finds a
difference."""

from __future__ import annotations

import importlib
import io
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditEvent
from requests_app import reports
from requests_app.models import LegalRequest, Target
from requests_app.services import delivery, review
from requests_app.services.submission import request_withdraw
from requests_app.states import Status
from tests.conftest import approve_seen

from .conftest import upload

pytestmark = pytest.mark.django_db

FACTS = ("first_acknowledged_at", "first_produced_at", "first_preserved_at", "preservation_extended", "target_count")


def facts(request: LegalRequest) -> dict:
    return LegalRequest.objects.filter(pk=request.pk).values(*FACTS).get()


def first_move(request: LegalRequest, *states: str):
    """The audit trail's own answer: the time of the first move into one of ``states``."""
    times = [e.occurred_at for e in AuditEvent.objects.filter(request_id=request.pk, action="request.status_changed")
             if e.data.get("to") in states]
    return min(times) if times else None


def period_around(request: LegalRequest) -> reports.Period:
    day = request.received_at.date()
    return reports.period_of("range", first=day - timedelta(days=1), last=day + timedelta(days=1))


def test_stored_facts_equal_the_audit_trail_after_a_production(submit, reviewer, approver, settings):
    settings.RESPONSE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    request = submit(validate=False)
    assert facts(request) == {"first_acknowledged_at": None, "first_produced_at": None, "first_preserved_at": None,
                              "preservation_extended": False, "target_count": 3}
    with time_machine.travel(request.received_at + timedelta(hours=2), tick=False):
        from requests_app.services.validation import request_validate

        request_validate(request_id=request.pk)
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
    with time_machine.travel(request.received_at + timedelta(hours=30), tick=False):
        delivery.response_prepare(actor=reviewer, request=request, files=[upload()], cover_note="Data.")
        approve_seen(actor=approver, request=request)
    request.refresh_from_db()
    assert request.status == Status.PRODUCED
    stored = facts(request)
    assert stored["first_acknowledged_at"] == first_move(request, *reports.ACKNOWLEDGED)
    assert stored["first_acknowledged_at"] == request.received_at + timedelta(hours=2)
    assert stored["first_produced_at"] == first_move(request, Status.PRODUCED)
    assert stored["first_produced_at"] == request.received_at + timedelta(hours=30)
    assert stored["first_preserved_at"] is None and stored["target_count"] == 3
    assert reports.stored_facts_mismatches() == []
    out = io.StringIO()
    call_command("transparency_report", "--from", str(request.received_at.date()), "--to",
                 str(request.received_at.date() + timedelta(days=2)), "--check-facts", stdout=out)
    assert "agree" in out.getvalue()
    figures = reports.transparency_figures(period_around(request))["total"]
    assert (figures["some_data_produced"], figures["accounts_specified"]) == (1, 3)


def test_a_later_move_does_not_move_the_first_one(submit, officer, reviewer):
    """Back to clarification and review again: the first acknowledgement stays the first."""
    request = submit()
    first = facts(request)["first_acknowledged_at"]
    assert first == first_move(request, *reports.ACKNOWLEDGED)
    with time_machine.travel(request.received_at + timedelta(hours=5), tick=False):
        request_withdraw(actor=officer, request=request, reason="no longer needed")
    assert facts(request)["first_acknowledged_at"] == first
    assert reports.stored_facts_mismatches() == []


def test_extended_then_released(submit, reviewer):
    order = submit(instrument="epoc_pr")
    assert order.status == Status.PRESERVING
    preserved = facts(order)["first_preserved_at"]
    assert preserved is not None and preserved == first_move(order, Status.PRESERVING)
    with time_machine.travel(order.received_at + timedelta(days=30), tick=False):
        extension = submit(instrument="preservation_extension", linked_reference=order.reference)
    assert extension.resolution == "preservation_extended"
    assert facts(order)["preservation_extended"] is True
    assert facts(extension)["preservation_extended"] is False  # the order is extended, not the extension
    with time_machine.travel(order.received_at + timedelta(days=40), tick=False):
        review.preservation_release(actor=reviewer, request=order, reason="no longer necessary")
    order.refresh_from_db()
    assert order.status == Status.RELEASED
    assert facts(order)["first_preserved_at"] == preserved and facts(order)["preservation_extended"] is True
    assert reports.stored_facts_mismatches() == []
    total = reports.transparency_figures(period_around(order))["total"]
    assert (total["preserved"], total["extended"], total["released_without_data"]) == (1, 1, 1)


def test_targets_added_and_removed_move_the_count(submit):
    request = submit(validate=False)
    Target.objects.bulk_create([Target(request=request, kind="username", value=v) for v in ("x", "y")])
    assert facts(request)["target_count"] == 5
    request.targets.filter(value__in=["x", "y"]).delete()
    Target.objects.filter(request=request).first().delete()
    assert facts(request)["target_count"] == 2 == request.targets.count()
    assert reports.stored_facts_mismatches() == []


def test_a_stale_full_save_keeps_what_the_triggers_wrote(submit):
    stale = LegalRequest.objects.get(pk=submit(validate=False).pk)  # loaded before validation
    from requests_app.services.validation import request_validate

    request_validate(request_id=stale.pk)
    stale.summary = "edited elsewhere"
    stale.save()  # no update_fields: every column but the derived ones
    stored = facts(stale)
    assert stored["first_acknowledged_at"] is not None and stored["target_count"] == 3
    assert reports.stored_facts_mismatches() == []


def test_the_check_finds_a_difference(submit):
    request = submit()
    LegalRequest.objects.filter(pk=request.pk).update(first_acknowledged_at=None, target_count=7)
    found = {(d["request_id"], d["field"]) for d in reports.stored_facts_mismatches()}
    assert found == {(request.pk, "first_acknowledged_at"), (request.pk, "target_count")}
    with pytest.raises(CommandError, match="2 stored transparency facts differ"):
        call_command("transparency_report", "--from", str(request.received_at.date()), "--to",
                     str(request.received_at.date() + timedelta(days=2)), "--check-facts", stdout=io.StringIO())


def test_the_backfill_derives_the_facts_of_rows_written_before_the_triggers(submit, reviewer):
    order = submit(instrument="epoc_pr")
    submit(instrument="preservation_extension", linked_reference=order.reference)
    produced_later = submit()
    before = {r.pk: facts(r) for r in LegalRequest.objects.all()}
    LegalRequest.objects.update(first_acknowledged_at=None, first_produced_at=None, first_preserved_at=None,
                                preservation_extended=False, target_count=0)
    assert reports.stored_facts_mismatches()
    migration = importlib.import_module("requests_app.migrations.0025_transparency_report_facts")
    # The backfill reads only the editor's connection (SQLite has no schema editor inside the
    # test's transaction).
    migration.backfill(apps, SimpleNamespace(connection=connection))
    assert {r.pk: facts(r) for r in LegalRequest.objects.all()} == before
    assert before[produced_later.pk]["first_acknowledged_at"] is not None
    assert reports.stored_facts_mismatches() == []


# How the installed audit trigger spells, per stored fact, the states whose first move it keeps.
_STATES = r"(?:IN \(([^)]*)\)|= '(\w+)')"
_POSTGRES_ALIASES = re.compile(r"MIN\(e\.occurred_at\) FILTER \(WHERE e\.data ->> 'to' " + _STATES + r"\) AS (\w+)")
_POSTGRES_COLUMNS = re.compile(r"(\w+) = LEAST\(r\.\1, m\.(\w+)\)")
# Migration 0029's row trigger: one boolean per fact, then ``column = CASE WHEN flag THEN LEAST(...)``.
_POSTGRES_ROW_FLAGS = re.compile(r"(\w+) boolean := NEW\.data ->> 'to' " + _STATES)
_POSTGRES_ROW_COLUMNS = re.compile(r"(\w+) = CASE WHEN (\w+) THEN LEAST\(r\.\1, NEW\.occurred_at\)")
_SQLITE_COLUMNS = re.compile(r"(\w+) = CASE WHEN json_extract\(NEW\.data, '\$\.to'\) " + _STATES)


def _states(listed: str | None, single: str | None) -> set[str]:
    return set(re.findall(r"'(\w+)'", listed)) if listed else {single or ""}


def installed_first_move_states() -> tuple[str, dict[str, set[str]]]:
    """The audit trigger's source as the database holds it (the latest migration's, whatever file
    wrote it) and, per fact column, the states it reads."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_functiondef('lrp_report_facts_from_audit'::regproc)")
            source = cursor.fetchone()[0]
            alias_states = {alias: _states(listed, single)
                            for listed, single, alias in _POSTGRES_ALIASES.findall(source)}
            alias_states |= {flag: _states(listed, single)
                             for flag, listed, single in _POSTGRES_ROW_FLAGS.findall(source)}
            columns = _POSTGRES_COLUMNS.findall(source) + _POSTGRES_ROW_COLUMNS.findall(source)
            return source, {column: alias_states.get(alias, set()) for column, alias in columns}
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'lrp_report_facts_audit'")
        source = cursor.fetchone()[0]
        return source, {column: _states(listed, single) for column, listed, single in _SQLITE_COLUMNS.findall(source)}


def test_the_installed_audit_trigger_reads_the_states_the_report_defines():
    """The trigger (SQL frozen in its migration) and reports.FIRST_MOVE_INTO spell the same lists:
    a state added to reports.ACKNOWLEDGED without a migration replacing the trigger fails here,
    before the stored facts and the check silently disagree on new requests."""
    source, installed = installed_first_move_states()
    expected = {column: {str(s) for s in states} for column, states in reports.FIRST_MOVE_INTO.items()}
    assert installed == expected, f"the installed trigger differs from reports.FIRST_MOVE_INTO:\n{source}"
    definition = ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'lrp_report_facts_audit'")
            definition = cursor.fetchone()[0]
        if "FOR EACH ROW" in definition:  # 0029: its WHEN lets through the events into every one of those states
            assert set().union(*expected.values()) <= set(re.findall(r"'(\w+)'::text", definition)), definition
    assert "'request.status_changed'" in source + definition
