"""Django's PostgreSQL backend with a health check that sends nothing to a quiet connection.

``CONN_HEALTH_CHECKS`` (portal/settings.py) makes Django check a kept connection before its first
use in each request and, through ``portal.celery.heal_db_connections``, in each task:
``is_usable`` sends ``SELECT 1`` and waits for the answer. On a warm web process that is one
PostgreSQL round trip more per API call than the call itself needs (issue 9 item 5), invisible to
``CaptureQueriesContext`` (Django runs it on the raw psycopg cursor).

Between two uses a healthy connection is idle and silent: the server sends nothing unasked. What
ends a connection under the process is announced on its socket: a terminated backend
(``pg_terminate_backend``, a shutdown or restart, a failover) sends its FATAL error and closes,
a pooler or proxy that goes away closes (FIN or RST), and the socket becomes readable. So
``is_usable`` asks the kernel first (one ``poll`` with a zero timeout, no round trip): nothing to
read means nothing happened and the connection is kept; anything to read (the termination, or a
notice or parameter change, which a web connection does not expect) falls back to Django's
``SELECT 1``, which reads it and decides. A connection psycopg or libpq already knows is broken
is refused without asking.

What the quiet check cannot see, ``SELECT 1`` could not either without hanging: a peer that
vanished without a word (a cable cut) is found by the first statement, as it is after any check.
A termination that arrives after the check is the race Django's check has too.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq

# The transaction states of a connection that sent nothing it still waits for (pq.TransactionStatus).
_QUIET_STATES = frozenset({pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS})


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        pgconn = connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        if pgconn.transaction_status not in _QUIET_STATES:
            return bool(super().is_usable())
        try:
            readable = _readable(pgconn.socket)
        except (OSError, ValueError, connection.OperationalError):
            return False
        if readable:
            return bool(super().is_usable())  # the server said something: ask it
        return True


def _readable(fd: int) -> bool:
    """Whether the socket has something to read (or is closed) now, without waiting."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
