"""The validation drain sends the e-mails its decisions plan together (``notifications.sent_together``,
issue 9 item 5): one transaction locks them and their readers, one SMTP session carries them, one
UPDATE marks them sent; a failed delivery is recorded and retried on its own without holding back
the others; an emergency's e-mail is never held; what is held goes out however the drain ends.
What is asserted is what a real SMTP server received and what the rows say after the drain.
"""

from __future__ import annotations

import pytest
from django.core.mail.backends.smtp import EmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext

from requests_app import notifications, tasks
from requests_app.models import LegalRequest, Notification
from requests_app.models.notifications import NotificationStatus
from requests_app.services.submission import request_submit
from requests_app.services.validation import validate_next_pending
from requests_app.states import Status

from .conftest import validated

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the drain's PostgreSQL path"),
]

# As the test cursor logs them (the values written in): the lock of the planned rows with their
# readers, for a list of rows or for one; the "sent" mark of a list, of one.
_BATCH_LOCK = ('n."id" = ANY(', 'FOR UPDATE OF n SKIP LOCKED')
_BATCH_MARK = ('UPDATE "requests_app_notification" n SET', 'FROM unnest(')
_ONE_LOCK = ('WHERE n."id" = ', 'FOR UPDATE OF n SKIP LOCKED')
_ONE_MARK = ('UPDATE "requests_app_notification" SET "status"', '')


@pytest.fixture(autouse=True)
def one_drain(settings):
    settings.VALIDATION_DRAINERS = 1
    settings.VALIDATION_DRAIN_LINGER_SECONDS = 0
    settings.NOTIFY_BATCH_SIZE = 10
    settings.NOTIFY_BATCH_MAX_WAIT_SECONDS = 60


@pytest.fixture
def retries(monkeypatch):
    """The retrying tasks queued for single notifications (not sent to a broker)."""
    queued: list[int] = []
    monkeypatch.setattr(tasks.send_notification, "apply_async", lambda args, countdown: queued.append(args[0]))
    return queued


@pytest.fixture
def sessions(monkeypatch):
    """How many SMTP sessions Django's backend opened."""
    opened: list[int] = []
    original = EmailBackend.open

    def counting(self):  # type: ignore[no-untyped-def]
        new = original(self)
        if new:
            opened.append(1)
        return new

    monkeypatch.setattr(EmailBackend, "open", counting)
    return opened


def submitted(officer, n: int, **overrides) -> list[LegalRequest]:
    return [request_submit(actor=officer, data=validated(**overrides))[0] for _ in range(n)]


def statements(context: CaptureQueriesContext, marker: tuple[str, str]) -> int:
    return sum(all(part in q["sql"] for part in marker) and not (marker == _ONE_LOCK and "ANY(" in q["sql"])
               for q in context.captured_queries)


def test_a_drain_sends_its_receipts_in_one_transaction_and_one_smtp_session(officer, smtp, sessions, retries):
    requests = submitted(officer, 4)
    with CaptureQueriesContext(connection) as worker:
        assert tasks.drain_validations.run(0) == 4
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == [officer.email] * 4
    assert len(sessions) == 1, "one SMTP session for the four receipts"
    assert statements(worker, _BATCH_LOCK) == 1 and statements(worker, _BATCH_MARK) == 1
    assert statements(worker, _ONE_LOCK) == 0 and statements(worker, _ONE_MARK) == 0
    sent = Notification.objects.filter(request__in=requests, event="notify.new_request")
    assert sent.count() == 4
    for row in sent:
        assert (row.status, row.attempts, row.last_error, row.deliver_after) == (NotificationStatus.SENT, 1, "", None)
        assert row.sent_at is not None
    assert retries == []
    # Each receipt names its own request.
    for request in requests:
        assert any(request.reference in m.subject for m in smtp.to(officer.email))


def test_one_receipt_alone_is_sent_as_before(officer, smtp):
    submitted(officer, 1)
    with CaptureQueriesContext(connection) as worker:
        assert tasks.drain_validations.run(0) == 1
    assert statements(worker, _ONE_LOCK) == 1 and statements(worker, _ONE_MARK) == 1
    assert statements(worker, _BATCH_LOCK) == 0 and statements(worker, _BATCH_MARK) == 0
    assert len(smtp.messages) == 1


def test_a_full_batch_goes_before_the_queue_is_empty(officer, settings, smtp, sessions):
    settings.NOTIFY_BATCH_SIZE = 2
    submitted(officer, 5)
    with CaptureQueriesContext(connection) as worker:
        assert tasks.drain_validations.run(0) == 5
    # Two full batches after the second and the fourth decision, the fifth alone at the end.
    assert statements(worker, _BATCH_LOCK) == 2 and statements(worker, _ONE_LOCK) == 1
    assert statements(worker, _BATCH_MARK) == 2 and statements(worker, _ONE_MARK) == 1
    assert len(smtp.messages) == 5 and len(sessions) == 3
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == 5


def test_a_receipt_waits_no_longer_than_the_batch_allows(officer, settings, smtp):
    settings.NOTIFY_BATCH_MAX_WAIT_SECONDS = 0  # every receipt is due as soon as it is held
    submitted(officer, 3)
    with CaptureQueriesContext(connection) as worker:
        assert tasks.drain_validations.run(0) == 3
    assert statements(worker, _BATCH_LOCK) == 0 and statements(worker, _ONE_LOCK) == 3
    assert len(smtp.messages) == 3


def test_a_refused_recipient_is_retried_alone_and_the_others_are_sent(officer, colleague, smtp, retries):
    first = submitted(officer, 1)[0]
    refused = submitted(colleague, 1)[0]
    last = submitted(officer, 1)[0]
    smtp.refuse(colleague.email)
    assert tasks.drain_validations.run(0) == 3
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == [officer.email, officer.email]
    for request in (first, last):
        row = Notification.objects.get(request=request, event="notify.new_request")
        assert (row.status, row.attempts) == (NotificationStatus.SENT, 1)
    failed = Notification.objects.get(request=refused, event="notify.new_request")
    assert (failed.status, failed.attempts, failed.sent_at) == (NotificationStatus.PENDING, 1, None)
    assert "SMTPRecipientsRefused" in failed.last_error and failed.deliver_after is not None
    assert retries == [failed.pk], "the refused one gets its own retrying task"
    # Its retry, once the mailbox exists, delivers it once.
    smtp.refuse()
    assert tasks.send_notification.run(failed.pk) is True
    assert [m.rcpt_tos for m in smtp.messages].count([colleague.email]) == 1


def test_an_emergency_receipt_is_not_held(officer, smtp):
    ordinary = submitted(officer, 1)[0]
    emergency = submitted(officer, 1, emergency=True, emergency_reason="Threat to life")[0]
    with notifications.sent_here(), notifications.sent_together():
        assert validate_next_pending() == emergency.pk  # emergencies first
        assert [m for m in smtp.messages if emergency.reference in m.subject], "sent at once"
        assert validate_next_pending() == ordinary.pk
        assert not [m for m in smtp.messages if ordinary.reference in m.subject], "held for the batch"
    assert [m for m in smtp.messages if ordinary.reference in m.subject], "sent when the batch closes"


def test_what_is_held_is_sent_when_the_drain_fails(officer, smtp, monkeypatch):
    requests = submitted(officer, 2)
    from requests_app.services import validation

    calls: list[int] = []
    real = validation.validate_next_pending

    def then_the_database_goes(*, skip=frozenset()):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("the database went away")  # not a request's failure: the task retries
        return real(skip=skip)

    monkeypatch.setattr(validation, "validate_next_pending", then_the_database_goes)
    with pytest.raises(ConnectionError):
        tasks.drain_validations.run(0)
    decided = LegalRequest.objects.get(pk=requests[0].pk)
    assert decided.status != Status.RECEIVED
    assert [m for m in smtp.messages if decided.reference in m.subject], "its receipt went out all the same"
    assert Notification.objects.get(request=decided, event="notify.new_request").status == NotificationStatus.SENT


def test_a_database_failure_leaves_every_held_receipt_to_its_own_retry(officer, settings, monkeypatch, retries):
    submitted(officer, 3)

    def broken(rows):  # type: ignore[no-untyped-def]
        raise ConnectionError("the database went away")

    monkeypatch.setattr(notifications, "send_together", broken)
    assert tasks.drain_validations.run(0) == 3
    pending = Notification.objects.filter(status=NotificationStatus.PENDING, event="notify.new_request")
    assert sorted(retries) == sorted(pending.values_list("pk", flat=True)) and len(retries) == 3


def test_a_row_another_sender_holds_is_skipped(officer, smtp):
    """``send_together`` skips a row locked elsewhere (the sweeper sending it), as ``send`` does."""
    import threading

    from django.db import transaction

    submitted(officer, 2)
    rows: list[Notification] = []
    # Planned by the drain's decisions but not sent: the e-mails are taken before they go out.
    original = tasks.send_planned_together
    tasks.send_planned_together = rows.extend  # type: ignore[assignment]
    try:
        tasks.drain_validations.run(0)
    finally:
        tasks.send_planned_together = original  # type: ignore[assignment]
    assert len(rows) == 2 and smtp.messages == []
    locked, release = threading.Event(), threading.Event()

    def other_sender() -> None:
        with transaction.atomic():
            Notification.objects.select_for_update().filter(pk=rows[0].pk).get()
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_sender)
    thread.start()
    try:
        assert locked.wait(10)
        assert notifications.send_together(rows) == []
    finally:
        release.set()
        thread.join()
    assert len(smtp.messages) == 1
    assert Notification.objects.get(pk=rows[0].pk).status == NotificationStatus.PENDING
    assert Notification.objects.get(pk=rows[1].pk).status == NotificationStatus.SENT


def test_with_the_smtp_server_down_the_batch_tries_it_once_and_every_receipt_is_retried(
        officer, smtp, monkeypatch, retries):
    submitted(officer, 3)
    smtp.stop()  # nothing listens on its port any more
    tried: list[int] = []
    original = EmailBackend.open

    def counting(self):  # type: ignore[no-untyped-def]
        tried.append(1)
        return original(self)

    monkeypatch.setattr(EmailBackend, "open", counting)
    assert tasks.drain_validations.run(0) == 3
    assert len(tried) == 1, "one connection attempt for the batch, not one timeout per receipt"
    rows = list(Notification.objects.filter(event="notify.new_request"))
    assert len(rows) == 3 and sorted(retries) == sorted(row.pk for row in rows)
    for row in rows:
        assert (row.status, row.attempts, row.sent_at) == (NotificationStatus.PENDING, 1, None)
        assert "ConnectionRefusedError" in row.last_error and row.deliver_after is not None
