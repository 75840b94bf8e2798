"""The per-request database health check without its round trip while the session is alive
(issue 9 item 5).

With ``CONN_HEALTH_CHECKS`` Django re-arms the check at the start of every request
(``close_old_connections``) and the request's first query is preceded by a ``SELECT 1``: one round
trip per request (Python, a PostgreSQL statement, two syscalls) for a session that is almost always
alive. A session the server has ended (``pg_terminate_backend``, a restart, ``idle_session_timeout``)
has sent its FATAL error and closed its end, so its socket is readable. This receiver runs after
Django's: a PostgreSQL connection that is idle, outside a transaction, in libpq state OK and whose
socket has nothing to read is marked checked; any other keeps Django's ``SELECT 1``. A connection
that raised during a request is still checked (or closed) at the request's end (``errors_occurred``).

Given up: a session ended in the instant between this look and the first query (its FATAL still on
the way) fails that request's first query instead of being replaced first; the request ends with
``errors_occurred`` and the connection is closed for the next one. Celery tasks keep the full check
(portal/celery.py re-arms it around each task; no request_started there). ``DB_HEALTH_CHECK_ROUND_TRIP``
(settings) restores the round trip for every request.
"""

from __future__ import annotations

import select
from typing import Any

from django.conf import settings
from django.core.signals import request_started
from django.db import connections

try:
    from psycopg import pq
except ImportError:  # SQLite only, or psycopg2: Django's round trip
    pq = None

_READABLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


def _session_alive(raw: Any) -> bool:
    """True when a psycopg connection is idle and open and its socket has nothing to read."""
    pgconn = getattr(raw, "pgconn", None)  # psycopg 3; psycopg2 keeps the round trip
    if pq is None or pgconn is None or raw.closed or raw.broken:
        return False
    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    try:
        fd = pgconn.socket
    except Exception:  # no socket: let the real check decide
        return False
    poller = select.poll()
    poller.register(fd, _READABLE)
    return not poller.poll(0)


def skip_health_check_round_trip(**_: Any) -> None:
    if settings.DB_HEALTH_CHECK_ROUND_TRIP:
        return
    for conn in connections.all(initialized_only=True):
        if (conn.vendor == "postgresql" and conn.health_check_enabled and not conn.health_check_done
                and conn.connection is not None and not conn.in_atomic_block and _session_alive(conn.connection)):
            conn.health_check_done = True


# After django.db's close_old_connections (connected when django.db is imported, above), which
# re-arms the check; connected before it, this would be undone and the round trip kept.
request_started.connect(skip_health_check_round_trip, dispatch_uid="portal.db_health.skip_round_trip")
