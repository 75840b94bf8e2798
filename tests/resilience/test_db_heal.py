"""A worker process whose PostgreSQL session was killed heals on the next task (issue 16 §1).

In-process: the task runs eagerly in this process, whose connection is terminated from a
second session with ``pg_terminate_backend``, as a failover or an idle timeout does.
"""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from requests_app.tasks import sweep_stuck_requests


def _terminate(pid: int) -> None:
    db = settings.DATABASES["default"]
    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                         password=db.get("PASSWORD") or None, dbname=db["NAME"], autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)


@pytest.mark.django_db(transaction=True)
def test_a_task_after_its_connection_was_terminated_reconnects_instead_of_failing():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        old_pid = cursor.fetchone()[0]
    _terminate(old_pid)
    try:
        # On f02ea04 this raised OperationalError (the dead connection was reused), and so
        # did every later task of the process.
        assert sweep_stuck_requests.apply(throw=True).get() == 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] != old_pid
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_healthy_connection_is_kept_across_tasks():
    sweep_stuck_requests.apply(throw=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    for _ in range(3):
        sweep_stuck_requests.apply(throw=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] == pid
