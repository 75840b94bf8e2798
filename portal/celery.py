"""The Celery application. Configuration lives in settings under the CELERY_ prefix."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# DjangoTask gives every task delay_on_commit(); the outbox is still what guarantees delivery.
app = Celery("portal", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def heal_db_connections(**_: Any) -> None:
    """Django's between-requests hygiene, between tasks.

    With ``CELERY_DB_REUSE_MAX`` Celery's Django fixup keeps the connection across tasks but
    skips ``close_if_unusable_or_obsolete``, so a connection killed under the worker
    (``pg_terminate_backend``, a failover, a proxy restart) stayed in the process and every
    later task failed on it. Called before and after each task it closes a connection that
    raised and is no longer usable, and re-arms ``CONN_HEALTH_CHECKS`` so the next query
    checks the connection first; a healthy connection is kept (no new session per task).
    A connection inside a transaction (an eager task run by its caller) is left alone.
    """
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


task_prerun.connect(heal_db_connections, weak=False, dispatch_uid="portal.heal_db_connections.prerun")
task_postrun.connect(heal_db_connections, weak=False, dispatch_uid="portal.heal_db_connections.postrun")
