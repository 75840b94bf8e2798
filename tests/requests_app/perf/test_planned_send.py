"""The receipt the validation task sends itself: its Notification row is sent as planned, locked
with one narrow statement, not read back with its request (issue 9 item 5). At 16e12a1 ``send``
read the row again joined to the request's mailed columns.

What may change in the row after planning is still read with the lock: a try counted by
another sender (``attempts``), or the row sent by another sender meanwhile.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outbox.models import OutboxMessage
from requests_app import notifications, tasks
from requests_app.models import LegalRequest, Notification, NotificationStatus
from tests.conftest import client_for, epoc_body

pytestmark = pytest.mark.django_db(transaction=True)

ROW_READ = 'SELECT "requests_app_notification"."id"'


def submitted(officer) -> LegalRequest:
    response = client_for(officer).post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201, response.content
    return LegalRequest.objects.get(reference=response.json()["reference"])


def test_the_validation_tasks_receipt_is_not_read_back_to_send_it(officer, no_broker):
    request = submitted(officer)
    mail.outbox = []
    with CaptureQueriesContext(connection) as worker:
        tasks.validate_request.run(request.pk)
    assert not [q["sql"] for q in worker.captured_queries if q["sql"].startswith(ROW_READ)]
    row = Notification.objects.get(request=request)
    assert (row.status, row.attempts, row.recipient) == (NotificationStatus.SENT, 1, officer.email)
    assert [m.to for m in mail.outbox] == [[officer.email]]
    assert request.reference in mail.outbox[0].subject


def planned_receipt(request: LegalRequest) -> Notification:
    """Validated outside the task: the receipt's outbox row goes to the (recorded) broker, and is
    planned here as the task that sends it would."""
    from requests_app.services.validation import request_validate

    request_validate(request_id=request.pk)
    message = OutboxMessage.objects.select_related("request").get(request=request, topic="notify.new_request")
    [row] = notifications.plan_rows(message.pk, message=message)
    return row


def test_a_try_counted_elsewhere_after_planning_is_counted_on(officer, no_broker):
    request = submitted(officer)
    row = planned_receipt(request)
    Notification.objects.filter(pk=row.pk).update(attempts=2, last_error="SMTP down")
    mail.outbox = []
    assert notifications.send(row.pk, planned=row) is True
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (NotificationStatus.SENT, 3, "")
    assert len(mail.outbox) == 1


def test_a_planned_row_sent_meanwhile_by_another_sender_is_not_sent_again(officer, no_broker):
    request = submitted(officer)
    row = planned_receipt(request)
    assert notifications.send(row.pk) is True  # another sender, from the row in the database
    mail.outbox = []
    assert notifications.send(row.pk, planned=row) is False
    assert mail.outbox == []
    assert Notification.objects.get(pk=row.pk).attempts == 1
