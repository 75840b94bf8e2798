"""The receipt the validation task sends itself (``notifications.enqueue`` under ``sent_here``):
the reader of its address (legal team or not, the zone its dates are written in) is read with
the row's lock, in one statement (issue 9 item 5, stop 33), and is the same reader as
``notifications.reader`` finds: the active account with the address, whatever the case of its
letters, the legal team's zone for staff without an authority, UTC for an unknown address.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.services import user_set_time_zone
from outbox.models import OutboxMessage, OutboxStatus
from requests_app import notifications, tasks
from requests_app.models import LegalRequest, Notification
from requests_app.models.notifications import NotificationStatus
from tests.conftest import client_for, epoc_body

from .test_zones import due_line, shown

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the lock and the reader in one PostgreSQL statement"),
]


def planned_row(address: str) -> Notification:
    outbox = OutboxMessage.objects.create(topic="notify.new_request", status=OutboxStatus.SENT)
    return Notification.objects.create(key=f"{outbox.pk}:{address}", outbox=outbox, event="notify.new_request",
                                       recipient=address,
                                       language="en", subject="s", status=NotificationStatus.PENDING)


def locked_reader(row: Notification) -> tuple[bool, ZoneInfo] | None:
    with transaction.atomic():
        with connection.cursor() as cursor:  # a lock waited for fails the test instead of hanging it
            cursor.execute("SET LOCAL lock_timeout = '5s'")
        locked = notifications._lock_pending(row.pk, row)
        if locked is None:
            return None
        _row, users = locked
        assert users is not None, "read with the lock"
        return notifications._reader_of(row.recipient, users, outside=False)


def test_the_reader_read_with_the_lock_is_the_reader(officer, team, settings):
    user_set_time_zone(user=officer, time_zone="America/New_York")
    # A second, inactive account with the officer's address in capitals, created later: the
    # active one is the reader, as ``reader`` decides.
    twin = User.objects.create_user(email="twin@police.example", password=None, is_active=False)
    User.objects.filter(pk=twin.pk).update(email=officer.email.upper(), time_zone="Asia/Tokyo")
    addresses = [officer.email, officer.email.upper(), team.reviewer.email, "nobody@elsewhere.example",
                 next(iter(settings.ON_CALL_EMAILS))]
    for address in addresses:
        expected = notifications.reader(address)
        assert locked_reader(planned_row(address)) == expected, address
    assert locked_reader(planned_row(officer.email)) == (False, ZoneInfo("America/New_York"))
    assert notifications.reader(team.reviewer.email)[0] is True


def test_a_row_locked_elsewhere_or_sent_is_not_taken(officer):
    row = planned_row(officer.email)
    params = connection.settings_dict
    with psycopg.connect(host=params["HOST"] or "127.0.0.1", port=params["PORT"] or 5432,
                         user=params["USER"] or None, password=params["PASSWORD"] or None,
                         dbname=params["NAME"]) as other:
        # Another sender (the sweeper, a retry) holds the row while it sends: skipped, not waited for.
        other.execute('SELECT 1 FROM "requests_app_notification" WHERE id = %s FOR UPDATE', [row.pk])
        assert locked_reader(row) is None
    assert locked_reader(row) == notifications.reader(officer.email)
    Notification.objects.filter(pk=row.pk).update(status=NotificationStatus.SENT)
    assert locked_reader(row) is None


def test_the_drains_receipt_reads_its_reader_with_its_lock(officer, smtp, settings):
    user_set_time_zone(user=officer, time_zone="America/New_York")
    response = client_for(officer).post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201, response.content
    request = LegalRequest.objects.get(reference=response.json()["reference"])
    with CaptureQueriesContext(connection) as worker:
        assert tasks.drain_validations.run(request.pk % settings.VALIDATION_DRAINERS) == 1
    request.refresh_from_db()
    [mail] = smtp.to(officer.email)
    assert due_line(mail) == f"Due: {shown(request.due_at, 'America/New_York')}"
    assert Notification.objects.get(request=request, recipient=officer.email).status == NotificationStatus.SENT
    statements = [q["sql"] for q in worker.captured_queries]
    [lock] = [s for s in statements if s.startswith('SELECT n."attempts"')]
    assert "FOR UPDATE OF n SKIP LOCKED" in lock and '"accounts_user"' in lock
    reader_apart = 'SELECT "accounts_user"."id" AS "pk", "accounts_user"."is_staff"'
    assert not [s for s in statements if s.startswith(reader_apart)]
