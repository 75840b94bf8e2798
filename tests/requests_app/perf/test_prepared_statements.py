"""PostgreSQL parses and plans a submission's statements once per connection, not per request
(issue 9 item 5; portal/settings.py ``server_side_binding`` with psycopg's ``prepare_threshold``;
bench/perf_notes.md stops 24 and 30).

psycopg prepares a statement from its second execution on a connection; PostgreSQL plans the
first five executions of a prepared statement for their values (custom plans), then keeps a
generic plan when it costs no more. So from the seventh submission on a connection, a statement
is neither parsed nor planned again, provided its text is the same every time (values as
parameters, no IN list of varying length). One exception is known and kept: the audit's
``_NUMBERS`` (``generate_series(1, $2)``: a generic plan estimates 1,000 rows, so PostgreSQL
plans it for its values each time, ~15 µs).
"""

from __future__ import annotations

import re

import pytest
from django.db import OperationalError, connection, connections

from audit import trail
from requests_app import tasks
from requests_app.models import LegalRequest
from tests.conftest import client_for, epoc_body

# psycopg prepares on the 2nd execution, PostgreSQL tries 5 custom plans: a statement run once
# per submission runs a generic plan from the 7th on.
WARM_UP = 7


def server_text(sql: str) -> str:
    """The text psycopg sends for Django's ``%s`` placeholders (``$1``, ``$2``, ...)."""
    numbers = iter(range(1, 1000))
    return re.sub(r"%%|%s", lambda m: "%" if m.group() == "%%" else f"${next(numbers)}", sql)


def prepared() -> dict[str, tuple[int, int]]:
    """This session's prepared statements: text -> (generic plans run, custom plans made)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return {text: (generic, custom) for text, generic, custom in cursor.fetchall()
                if "pg_prepared_statements" not in text}


def submission(client) -> None:  # type: ignore[no-untyped-def]
    """The API POST (web) and its validation task with the receipt (worker), as bench/profile_submission.py."""
    response = client.post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201, response.content
    tasks.validate_request.run(LegalRequest.objects.get(reference=response.json()["reference"]).pk)


@pytest.mark.django_db(transaction=True)
def test_a_warm_submission_is_neither_parsed_nor_planned_again(officer, no_broker):
    client = client_for(officer)
    for _ in range(WARM_UP):
        submission(client)
    before = prepared()
    executed: list[str] = []

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        executed.append(server_text(sql))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        submission(client)
    after = prepared()
    # web and worker (8 + 13 at stop 29, the reference lookup apart; at stop 32 the receipt's outbox
    # row is written as consumed with the decision: its "sent" UPDATE is gone; at stop 33 the
    # receipt's reader is read with its lock, the intake's audit number with its reference, and the
    # targets with the queue's lock)
    assert len(executed) >= 16
    # Every statement was prepared before: the same text as in the earlier submissions.
    assert [text for text in executed if text not in before] == []
    assert set(after) == set(before)
    # Each execution ran a plan kept from before, except _NUMBERS' (planned for its values).
    runs = {text: executed.count(text) for text in executed}
    planned = {text: after[text][1] - before[text][1] for text in runs}
    generic = {text: after[text][0] - before[text][0] for text in runs}
    numbers = server_text(trail._NUMBERS)  # not run by a submission since stop 33 (drawn with its reference)
    assert {text: n for text, n in planned.items() if n} == ({numbers: runs[numbers]} if numbers in runs else {})
    assert generic == {text: 0 if text == numbers else n for text, n in runs.items()}


@pytest.mark.django_db(transaction=True)
def test_statements_are_prepared_again_on_the_connection_that_replaces_a_terminated_one(officer, no_broker):
    """psycopg's record of what is prepared belongs to the connection: after the backend is
    terminated (tests/resilience/test_db_heal.py in real processes), the new connection
    prepares its statements anew rather than executing names the new backend does not know."""
    client = client_for(officer)
    for _ in range(3):
        submission(client)
    old = connection.connection.info.backend_pid
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [old])
    finally:
        other.close()
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    connection.close_if_unusable_or_obsolete()  # what each request and task start does (request_started)
    for _ in range(3):
        submission(client)
    assert connection.connection.info.backend_pid != old
    assert any(text.startswith('INSERT INTO "requests_app_legalrequest"') for text in prepared())


@pytest.mark.django_db
def test_a_legal_admin_can_discard_more_dead_letters_than_a_statement_has_parameters(legal_admin):
    """The admin's "select all" hands every matching id to the service (requests_app/admin.py
    RetryDiscardAdmin). Ids that match no row are enough: at 630151b the statement was refused
    before it ran (one parameter per IN value, at most 65,535 per statement); the service now
    reads and updates them in chunks (portal/id_chunks.py)."""
    from outbox.models import OutboxMessage
    from requests_app.services import dead_letters

    assert dead_letters.discard(actor=legal_admin, model=OutboxMessage, ids=range(1, 65_537)) == 0
