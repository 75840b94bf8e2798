"""The database's share of a submission (issue 9 item 5): the intake writes its request row once
(migration 0028: ``target_count`` in the INSERT, the targets' trigger compares before writing),
the count stays exact for any other writer, and repeated statements are prepared on the server
(portal/settings.py, ``server_side_binding``)."""

from __future__ import annotations

import importlib
import threading
import time

import pytest
from django.db import connection, connections, transaction

from requests_app import reports
from requests_app.models import LegalRequest, Target

pytestmark = pytest.mark.django_db

MIGRATION = "requests_app.migrations.0028_target_count_without_second_row_version"


def row_writes() -> tuple[int, int]:
    """(rows inserted, row versions written by updates) of the requests table, this transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT n_tup_ins, n_tup_upd FROM pg_stat_xact_user_tables "
                       "WHERE relname = 'requests_app_legalrequest'")
        found = cursor.fetchone()
    return (found[0], found[1]) if found else (0, 0)


def target_count(request: LegalRequest) -> int:
    return LegalRequest.objects.filter(pk=request.pk).values_list("target_count", flat=True).get()


def test_an_intake_writes_its_request_row_once(submit):
    inserted, updated = row_writes()
    request = submit(validate=False)
    assert row_writes() == (inserted + 1, updated)  # no second version (0025's trigger wrote one)
    assert target_count(request) == 3 == request.targets.count()
    assert reports.stored_facts_mismatches() == []
    assert reports.summary_mismatches() == []


def test_targets_added_later_are_counted_and_a_wrong_count_is_recounted(submit):
    request = submit(validate=False)
    Target.objects.bulk_create([Target(request=request, kind="username", value=v) for v in ("x", "y")])
    assert target_count(request) == 5
    LegalRequest.objects.filter(pk=request.pk).update(target_count=9)  # a writer's wrong figure
    Target.objects.create(request=request, kind="username", value="z")
    assert target_count(request) == 6 == request.targets.count()
    assert reports.stored_facts_mismatches() == []
    assert reports.summary_mismatches() == []


def test_the_migration_goes_back_to_adding_and_forward_to_comparing(submit):
    migration = importlib.import_module(MIGRATION)
    editor = type("Editor", (), {"connection": connection, "execute": lambda self, sql: connection.cursor()
                                 .execute(sql)})()
    request = submit(validate=False)
    migration.backwards(None, editor)
    LegalRequest.objects.filter(pk=request.pk).update(target_count=0)
    Target.objects.create(request=request, kind="username", value="x")
    assert target_count(request) == 1  # 0025: the statement's targets added to the stored figure
    migration.forwards(None, editor)
    Target.objects.create(request=request, kind="username", value="y")
    assert target_count(request) == 5 == request.targets.count()  # recounted


@pytest.mark.django_db(transaction=True)
def test_two_writers_adding_targets_to_one_request_both_count(submit):
    """The second writer's compare sees the committed count; it waits on the row's lock for the
    first, and recounts with the first's targets."""
    request = submit(validate=False)
    holding, release, errors = threading.Event(), threading.Event(), []

    def add_and_hold(value: str, hold: bool) -> None:
        try:
            with transaction.atomic():
                Target.objects.create(request=request, kind="username", value=value)
                if hold:
                    holding.set()
                    release.wait(10)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=add_and_hold, args=("x", True))
    first.start()
    assert holding.wait(10)
    second = threading.Thread(target=add_and_hold, args=("y", False))
    second.start()
    try:
        for _ in range(200):  # until the second writer waits on the first's lock
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND wait_event_type = 'Lock'")
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.02)
        else:
            pytest.fail("the second writer never waited for the first")
    finally:
        release.set()
        first.join(10)
        second.join(10)
    assert errors == []
    assert target_count(request) == 5 == request.targets.count()
    assert reports.stored_facts_mismatches() == []


def test_repeated_statements_are_prepared_on_the_server(submit):
    request = submit(validate=False)
    for _ in range(3):
        assert LegalRequest.objects.filter(pk=request.pk).values_list("reference", flat=True).get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
                       ['SELECT "requests_app_legalrequest"."reference" AS "reference" FROM %$1%'])
        assert cursor.fetchall()


def test_only_an_event_that_can_move_a_fact_runs_the_audit_trigger(submit):
    """Submission, claim (into validating) and decision (into review): three audit inserts, one
    of them an acknowledgement. 0025's statement trigger ran for each; 0029's row trigger's
    WHEN lets through the acknowledgement alone, and it still sets the fact."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL track_functions = 'pl'")
    request = submit()
    with connection.cursor() as cursor:
        cursor.execute("SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'lrp_report_facts_from_audit'")
        assert cursor.fetchall() == [(1,)]
    assert request.status == "in_review" and request.first_acknowledged_at is not None
    assert reports.stored_facts_mismatches() == []
