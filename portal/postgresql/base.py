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

What the quiet socket cannot tell: a peer that vanished without a word (its host crashed and its
address moved to another, a load balancer dropped the flow). ``SELECT 1`` finds that at once (a
reset); the socket stays empty. So the quiet check is trusted only for a connection used within
the last ``DB_QUIET_CHECK_SECONDS`` (default 5): under load every check is quiet, and a
connection idle for longer is asked as Django asks. A connection that was silently lost within
those seconds fails its next statement, as one lost just after Django's check does.
"""

from __future__ import annotations

import select
import time

from django.conf import settings
from django.db.backends.postgresql import base
from psycopg import pq

# The transaction states of a connection that sent nothing it still waits for (pq.TransactionStatus).
_QUIET_STATES = frozenset({pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS})


class DatabaseWrapper(base.DatabaseWrapper):
    # When the connection was last known to work: opened, asked, or used without error by a request
    # or task. The real clock (monotonic), never a test's.
    _known_good_at = 0.0

    def connect(self) -> None:
        super().connect()
        self._known_good_at = time.monotonic()

    def close_if_unusable_or_obsolete(self) -> None:
        # Django's hygiene runs when a request or task starts and when it ends. Only the end of one
        # that used the connection (it was checked since the last hygiene) and met no error shows
        # that the connection worked; the start shows nothing, and must not restart the window.
        used = bool(getattr(self, "health_check_done", False)) and not self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if used and self.connection is not None:
            self._known_good_at = time.monotonic()

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        pgconn = connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        quiet_for = float(getattr(settings, "DB_QUIET_CHECK_SECONDS", 5.0))
        if (pgconn.transaction_status not in _QUIET_STATES
                or time.monotonic() - self._known_good_at > quiet_for):
            return self._asked()
        try:
            readable = _readable(pgconn.socket)
        except (OSError, ValueError, connection.OperationalError):
            return False
        if readable:
            return self._asked()  # the server said something: ask it
        return True

    def _asked(self) -> bool:
        """Django's check (``SELECT 1``)."""
        usable = bool(super().is_usable())
        if usable:
            self._known_good_at = time.monotonic()
        return usable


def _readable(fd: int) -> bool:
    """Whether the socket has something to read (or is closed, or failed) now, without waiting."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
