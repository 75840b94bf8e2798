"""The database health check (``CONN_HEALTH_CHECKS``) on the portal's PostgreSQL backend
(portal/postgresql/base.py): a quiet kept connection is checked without a round trip, one that
the server ended is found and replaced, and one the server said anything to is asked as Django
asks (``SELECT 1``).

The server side is read from ``pg_stat_activity`` on a second connection: ``query`` is the last
statement the checked connection's backend received.
"""

from __future__ import annotations

import select

import psycopg
import pytest
from django.db import DataError, connection, connections, transaction
from psycopg import pq

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend's health check"),
]


@pytest.fixture
def observer():
    """A second connection to the test database, in autocommit."""
    params = connection.settings_dict
    other = psycopg.connect(host=params["HOST"] or "127.0.0.1", port=params["PORT"] or 5432,
                            user=params["USER"] or None, password=params["PASSWORD"] or None,
                            dbname=params["NAME"], autocommit=True)
    yield other
    other.close()


def last_statement(observer: psycopg.Connection, pid: int) -> str:
    row = observer.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    assert row is not None, f"backend {pid} is gone"
    return str(row[0])


def backend_pid() -> int:
    """A new session (an older one is closed by CONN_MAX_AGE in the request hygiene) and its pid."""
    connection.close()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'health check marker'")
    return int(connection.connection.info.backend_pid)


def wait_readable(timeout_ms: int = 5000) -> None:
    """Until the server's message reached this process's socket (kernel time, not the frozen clock)."""
    poller = select.poll()
    poller.register(connection.connection.pgconn.socket, select.POLLIN)
    assert poller.poll(timeout_ms), "the server's message did not arrive"


def test_the_backend_is_the_portals():
    assert connection.settings_dict["ENGINE"] == "portal.postgresql"
    assert type(connections["default"]).__module__ == "portal.postgresql.base"


def test_a_quiet_connection_is_checked_without_a_statement(observer):
    pid = backend_pid()
    assert connection.is_usable()
    # Django's own check sent SELECT 1 here: one round trip per request and per task.
    assert last_statement(observer, pid) == "SELECT 'health check marker'"


def test_the_health_check_of_a_request_sends_nothing_to_a_quiet_connection(observer):
    pid = backend_pid()
    connection.close_if_unusable_or_obsolete()  # what request_started does between two requests
    assert not connection.health_check_done
    connection.close_if_health_check_failed()  # what the request's first statement does first
    assert connection.health_check_done
    assert connection.connection.info.backend_pid == pid, "the healthy connection was kept"
    assert last_statement(observer, pid) == "SELECT 'health check marker'"


def test_a_terminated_connection_fails_the_check_and_is_replaced(observer):
    pid = backend_pid()
    assert observer.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
    wait_readable()
    assert not connection.is_usable()

    connection.close_if_unusable_or_obsolete()
    with connection.cursor() as cursor:  # the next request: a new session, no error
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert connection.connection.info.backend_pid != pid


def test_a_connection_the_server_spoke_to_is_asked_as_django_asks(observer):
    pid = backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("LISTEN health_check_probe")
    observer.execute("NOTIFY health_check_probe")
    wait_readable()
    assert connection.is_usable()  # the notification is read, the connection is fine
    assert last_statement(observer, pid) == "SELECT 1"
    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN health_check_probe")


def test_a_connection_idle_longer_than_the_quiet_window_is_asked(observer, settings):
    """A peer that vanished without a word leaves the socket empty: after DB_QUIET_CHECK_SECONDS
    of idleness only the server's answer tells."""
    pid = backend_pid()
    settings.DB_QUIET_CHECK_SECONDS = 0
    assert connection.is_usable()
    assert last_statement(observer, pid) == "SELECT 1"


def test_the_window_runs_from_the_last_request_that_used_the_connection(observer, settings):
    """A request's start is no evidence that the connection works: only the end of one that used it."""
    import time

    settings.DB_QUIET_CHECK_SECONDS = 0.5
    pid = backend_pid()
    connection.close_if_unusable_or_obsolete()  # request_started
    connection.close_if_health_check_failed()  # its first statement: quiet, used within the window
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'used'")
    connection.close_if_unusable_or_obsolete()  # request_finished: it worked
    assert last_statement(observer, pid) == "SELECT 'used'"
    time.sleep(0.6)  # idle for longer than the window (the real clock: time_machine leaves sleep alone)
    connection.close_if_unusable_or_obsolete()  # the next request_started
    connection.close_if_health_check_failed()
    assert last_statement(observer, pid) == "SELECT 1", "asked after the idle time, not restarted by the start"
    assert connection.connection.info.backend_pid == pid


def test_a_connection_in_a_failed_transaction_is_asked_and_not_usable(observer):
    pid = backend_pid()
    with transaction.atomic():
        with pytest.raises(DataError), connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
        assert connection.connection.pgconn.transaction_status == pq.TransactionStatus.INERROR
        assert not connection.is_usable()  # Django's SELECT 1 fails in an aborted transaction
        assert last_statement(observer, pid) == "SELECT 1"
        transaction.set_rollback(True)


def test_a_closed_connection_is_not_usable():
    backend_pid()
    raw = connection.connection
    raw.close()
    assert not connection.is_usable()
    connection.connection = None
    connection.close()
    connection.ensure_connection()
    assert connection.is_usable()
