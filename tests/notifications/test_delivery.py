"""Exactly once, whatever fails: idempotent planning and sending, SMTP down, a recipient refused
(security.md §4.E F13: retried with backoff, nothing lost, one e-mail per (event, recipient))."""

from __future__ import annotations

import smtplib
import threading

import pytest
from django.contrib import admin
from django.db import connection, transaction

from outbox.models import OutboxMessage
from requests_app import notifications, tasks
from requests_app.admin import NotificationAdmin
from requests_app.models import LegalRequest, Notification
from requests_app.services import review

from .conftest import deliver, notify_outbox_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_request(submit, team) -> LegalRequest:
    """A validated request: ``notify.new_request`` to the officer and the five members of the legal team."""
    return submit()


def the_outbox(request: LegalRequest, topic: str = "notify.new_request") -> OutboxMessage:
    return OutboxMessage.objects.get(request=request, topic=topic)


# --- idempotency ------------------------------------------------------------------------------

def test_planning_twice_creates_no_duplicate(new_request, officer, team):
    message = the_outbox(new_request)
    first = notifications.plan(message.pk)
    second = notifications.plan(message.pk)
    assert sorted(first) == sorted(second) and len(first) == 6
    keys = set(Notification.objects.filter(outbox=message).values_list("key", flat=True))
    assert keys == {f"{message.pk}:{address}" for address in {officer.email} | team.everyone}


def test_sending_a_sent_notification_sends_nothing(new_request, smtp):
    [first, *_] = notifications.plan(the_outbox(new_request).pk)
    assert notifications.send(first) is True
    assert notifications.send(first) is False
    assert len(smtp.messages) == 1
    row = Notification.objects.get(pk=first)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")


def test_running_the_fan_out_twice_sends_each_mail_once(new_request, smtp, officer, team):
    assert deliver() == 6
    assert deliver() == 0
    assert smtp.recipients() == sorted({officer.email} | team.everyone)


def test_redelivered_celery_tasks_send_each_mail_once(settings, new_request, smtp, officer, team):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    outbox_id = the_outbox(new_request).pk
    assert tasks.send_notifications.apply(args=(outbox_id,)).get() == 6
    assert tasks.send_notifications.apply(args=(outbox_id,)).get() == 0  # a redelivery (acks_late)
    for pk in Notification.objects.values_list("pk", flat=True):
        assert tasks.send_notification.apply(args=(pk,)).get() is False  # each send redelivered too
    assert smtp.recipients() == sorted({officer.email} | team.everyone)
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_redelivery_skips_the_row_being_sent(submit, team, smtp):
    """The worker sending a row holds its lock; a second delivery of the same task skips it."""
    request = submit()
    [pk, *_] = notifications.plan(the_outbox(request).pk)
    outcome: dict[str, object] = {}

    def redelivery() -> None:
        try:
            outcome["sent"] = notifications.send(pk)
        except Exception as exc:  # surfaced in the main thread
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=redelivery)
    with transaction.atomic():
        Notification.objects.select_for_update().get(pk=pk)  # the first worker, mid-send
        thread.start()
        thread.join(10)
        waited = thread.is_alive()
    thread.join(10)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    assert not waited, "the redelivery waited for the lock instead of skipping the row"
    assert outcome == {"sent": False} and smtp.messages == []
    assert notifications.send(pk) is True and len(smtp.messages) == 1


# --- SMTP down --------------------------------------------------------------------------------

def send_each(ids: list[int]) -> dict[int, Exception]:
    """Send every row as its own task would; the errors by row."""
    errors = {}
    for pk in ids:
        try:
            notifications.send(pk)
        except Exception as exc:
            errors[pk] = exc
    return errors


def test_smtp_down_keeps_the_rows_pending_and_delivers_once_when_back(new_request, smtp, officer, team):
    ids = notifications.plan(the_outbox(new_request).pk)
    [first, *_] = ids
    smtp.stop()
    with pytest.raises((OSError, smtplib.SMTPException)):
        notifications.send(first)
    row = Notification.objects.get(pk=first)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error.startswith("ConnectionRefusedError"), row.last_error

    errors = send_each(ids)  # every task fails while the server is down
    assert set(errors) == set(ids)
    assert all(isinstance(e, (OSError, smtplib.SMTPException)) for e in errors.values()), errors
    assert set(Notification.objects.values_list("status", flat=True)) == {"pending"}
    assert Notification.objects.get(pk=first).attempts == 2
    new_request.refresh_from_db()
    assert new_request.status == "in_review", "the request's state does not depend on e-mail"

    smtp.start()
    assert send_each(ids) == {}
    assert send_each(ids) == {}  # the retries still scheduled find the rows sent
    assert smtp.recipients() == sorted({officer.email} | team.everyone)
    row = Notification.objects.get(pk=first)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")
    assert row.sent_at is not None


def test_smtp_down_during_planning_loses_nothing(new_request, smtp, officer, team):
    smtp.stop()
    for outbox_id in notify_outbox_ids():
        send_each(notifications.plan(outbox_id))
    assert smtp.messages == []
    smtp.start()
    assert deliver() == 6
    assert smtp.recipients() == sorted({officer.email} | team.everyone)


# --- a refused recipient: retries, dead letter, retry from the admin -------------------------

def test_refused_recipient_is_retried_then_parked_as_failed_then_retried_from_the_admin(
        settings, new_request, smtp, officer, team, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = False  # let eager retries re-run, as a worker would later
    smtp.refuse(team.reviewer2.email)
    ids = notifications.plan(the_outbox(new_request).pk)
    refused = Notification.objects.get(pk__in=ids, recipient=team.reviewer2.email)

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        notifications.send(refused.pk)
    # The task: retried with backoff (eagerly here, one attempt per retry) until max_retries, then parked.
    result = tasks.send_notification.apply(args=(refused.pk,))
    assert (result.state, result.get()) == ("SUCCESS", False)
    refused.refresh_from_db()
    assert refused.status == "failed"
    assert refused.attempts == 1 + tasks.send_notification.max_retries + 1
    assert "SMTPRecipientsRefused" in refused.last_error and "550" in refused.last_error
    for pk in ids:
        if pk != refused.pk:
            assert tasks.send_notification.apply(args=(pk,)).get() is True
    assert smtp.recipients() == sorted(({officer.email} | team.everyone) - {team.reviewer2.email})

    # The legal admin's "retry" action, once the mailbox exists.
    smtp.refuse()
    model_admin = NotificationAdmin(Notification, admin.site)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        model_admin.requeue(list(Notification.objects.filter(status="failed")), actor=team.admin)
    assert len(callbacks) == 1
    refused.refresh_from_db()
    assert (refused.status, refused.last_error) == ("pending", "")
    assert notifications.send(refused.pk) is True
    assert notifications.send(refused.pk) is False
    assert smtp.recipients() == sorted({officer.email} | team.everyone)


def test_mark_failed_only_parks_a_pending_row(new_request):
    [pk, *_] = notifications.plan(the_outbox(new_request).pk)
    Notification.objects.filter(pk=pk).update(status="sent")
    notifications.mark_failed(pk, "SMTPServerDisconnected: late")
    assert Notification.objects.get(pk=pk).status == "sent", "a late failure never un-sends"


def test_a_message_to_a_refused_submitter_does_not_block_the_team(submit, officer, team):
    """Planning does not depend on SMTP at all: one row per recipient, each sent by its own task."""
    request = submit()
    review.message_from_authority(actor=officer, request=request, body="Any news?")
    for outbox_id in notify_outbox_ids():
        notifications.plan(outbox_id)
    assert Notification.objects.filter(event="notify.message_from_authority").count() == len(team.everyone)
