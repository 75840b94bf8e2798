"""The per-request database health check (portal/db_health.py, issue 9 item 5), through Django's
WSGI handler as gunicorn calls it (request_started and request_finished connected: the test
Client disconnects Django's ``close_old_connections``, so it never health-checks).

On a29d429 every request on a kept connection sent ``SELECT 1`` before its first query.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator

import psycopg
import pytest
from django.conf import settings
from django.core.signals import request_started
from django.db import connection, connections

from accounts.services import token_issue
from portal import db_health
from portal.wsgi import application

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL session check"),
]


@pytest.fixture
def checks(monkeypatch) -> Iterator[list[int]]:
    """Django's health checks (``is_usable``: a ``SELECT 1``) made while the test runs, and the
    portal's receiver after Django's, as in a server process (the test Client reconnects
    ``close_old_connections`` after each of its requests, which moves it last)."""
    made: list[int] = []
    wrapper = type(connections["default"])
    original = wrapper.is_usable

    def counting(self):  # type: ignore[no-untyped-def]
        made.append(1)
        return original(self)

    monkeypatch.setattr(wrapper, "is_usable", counting)
    request_started.disconnect(dispatch_uid="portal.db_health.skip_round_trip")
    request_started.connect(db_health.skip_health_check_round_trip, dispatch_uid="portal.db_health.skip_round_trip")
    yield made
    connection.close()


@pytest.fixture
def get(officer):  # type: ignore[no-untyped-def]
    _, raw = token_issue(user=officer, name="health")

    def run(path: str = "/api/v1/requests/") -> int:
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "testserver",
                   "SERVER_PORT": "80", "REMOTE_ADDR": "10.200.0.1", "HTTP_ACCEPT": "application/json",
                   "HTTP_AUTHORIZATION": f"Bearer {raw}", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
                   "wsgi.errors": sys.stderr}
        status: list[str] = []
        response = application(environ, lambda s, headers, exc_info=None: status.append(s))
        try:
            b"".join(response)
        finally:
            response.close()  # request_finished
        return int(status[0].split()[0])

    return run


def backend_pid() -> int:
    return int(connection.connection.info.backend_pid)


def test_a_request_on_a_live_session_sends_no_health_check(get, checks):
    assert get() == 200
    pid = backend_pid()
    checks.clear()
    assert get() == 200
    assert get() == 200
    assert checks == [], "SELECT 1 before the first query of a request on a live session"
    assert backend_pid() == pid, "the session is kept"


def test_a_session_the_server_ended_between_requests_is_replaced_before_the_first_query(get, checks):
    assert get() == 200
    pid = backend_pid()
    db = settings.DATABASES["default"]
    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                         password=db.get("PASSWORD") or None, dbname=db["NAME"], autocommit=True) as other:
        # With a timeout the call returns once the backend has gone (its FATAL sent and its end closed).
        assert other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone() == (True,)
    checks.clear()
    assert get() == 200, "the request on the ended session failed instead of reconnecting"
    assert checks == [1], "the readable socket sent it to Django's full check"
    assert backend_pid() != pid


def test_the_round_trip_setting_checks_every_request(get, checks, settings):
    settings.DB_HEALTH_CHECK_ROUND_TRIP = True
    assert get() == 200
    checks.clear()
    assert get() == 200
    assert get() == 200
    assert checks == [1, 1]
