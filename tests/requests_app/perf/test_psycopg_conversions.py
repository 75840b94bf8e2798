"""What psycopg does in Python per statement of a submission, kept to what the values need
(issue 9 item 5; portal/compiled.py ``keep_conversions`` and ``_insert_compiler``).

Two costs were found in the real web and worker processes (py-spy, bench/perf_notes.md stop 32):
psycopg converted the request's INSERT and the validation's lock texts again on every submission
(it keeps conversions only of texts up to 4,096 bytes with up to 50 parameters; the request has 60
columns, the lock with its joins ~4,500 bytes), and it dumped the timers' and
targets' UNNEST arrays element by element in Python (its ``ListDumper``), ~8 % of the worker's
CPU. A warm submission now converts none of its texts again and sends no array parameter in its
INSERTs.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from psycopg import _queries

from requests_app.models import LegalRequest, Target, Timer
from tests.conftest import client_for, epoc_body

from .test_prepared_statements import WARM_UP, submission

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's conversions of the PostgreSQL path"),
]


@pytest.fixture
def converted(monkeypatch) -> list[bytes]:
    """The texts psycopg converts without its cache (``_query2pg_nocache`` called directly),
    from here on; a text served by the cache does not appear."""
    seen: list[bytes] = []
    original = _queries._query2pg_nocache

    def counted(query: bytes, encoding: str) -> Any:
        seen.append(query)
        return original(query, encoding)

    monkeypatch.setattr(_queries, "_query2pg_nocache", counted)
    return seen


def test_a_warm_submission_converts_none_of_its_statements_again(officer, no_broker, converted):
    client = client_for(officer)
    for _ in range(WARM_UP):
        submission(client)
    converted.clear()
    submission(client)
    assert converted == [], [text[:120] for text in converted]


def test_the_limits_cover_every_statement_of_a_submission(officer, no_broker):
    """The request's INSERT is the widest statement of a submission (more parameters than psycopg
    keeps converted by default), the validation's lock one of the longest: both, and every other
    statement, fit what psycopg now keeps converted."""
    executed: list[tuple[str, int]] = []

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        executed.append((sql, len(params or ())))
        return execute(sql, params, many, context)

    client = client_for(officer)
    with connection.execute_wrapper(record):
        submission(client)
    widest = max(executed, key=lambda e: e[1])
    assert widest[0].startswith('INSERT INTO "requests_app_legalrequest"'), widest[0][:80]
    assert widest[1] > 50  # more than psycopg keeps converted by default
    assert widest[1] <= _queries.MAX_CACHED_STATEMENT_PARAMS
    longest = max(len(sql.encode()) for sql, _ in executed)
    assert 4096 < longest <= _queries.MAX_CACHED_STATEMENT_LENGTH


def test_the_inserts_of_a_submission_send_no_array_parameters(officer, no_broker):
    """Targets and timers, several rows each: one scalar parameter per value (VALUES), no
    UNNEST over arrays that psycopg dumps element by element."""
    inserts: list[tuple[str, list[Any]]] = []

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.startswith("INSERT"):
            inserts.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    client = client_for(officer)
    submission(client)  # the statements compiled on the first call
    with connection.execute_wrapper(record):
        submission(client)
    request = LegalRequest.objects.order_by("-pk").first()
    assert request is not None
    assert Target.objects.filter(request=request).count() > 1
    assert Timer.objects.filter(request=request).count() > 1
    tables = {sql.split('"')[1] for sql, _ in inserts}
    assert {"requests_app_target", "requests_app_timer"} <= tables, tables
    with_arrays = [(sql[:80], [type(p).__name__ for p in params if isinstance(p, list | tuple)])
                   for sql, params in inserts if any(isinstance(p, list | tuple) for p in params)]
    assert with_arrays == []
    assert not any("UNNEST" in sql for sql, _ in inserts)


def test_a_timers_insert_of_another_row_count_is_its_own_statement(officer, no_broker):
    """The VALUES form has one text per row count: two counts, two texts, each right."""
    from django.utils import timezone

    from portal import compiled
    from requests_app.timers import TimerKind

    client = client_for(officer)
    response = client.post("/api/v1/requests/", epoc_body(), format="json")
    request = LegalRequest.objects.get(reference=response.json()["reference"])
    due = timezone.now()
    texts: list[str] = []

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.startswith('INSERT INTO "requests_app_timer"'):
            texts.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        compiled.insert_ignoring_conflicts(Timer, [Timer(request=request, kind=TimerKind.DEADLINE_WARN, due_at=due)])
        compiled.insert_ignoring_conflicts(Timer, [
            Timer(request=request, kind=TimerKind.DEADLINE_BREACH, due_at=due),
            Timer(request=request, kind=TimerKind.DEADLINE_DUE, due_at=due)])
    assert len(texts) == 2 and texts[0] != texts[1]
    assert set(Timer.objects.filter(request=request).values_list("kind", flat=True)) == {
        TimerKind.DEADLINE_WARN, TimerKind.DEADLINE_BREACH, TimerKind.DEADLINE_DUE}
