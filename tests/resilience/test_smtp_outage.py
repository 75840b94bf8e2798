"""SMTP down when an emergency arrives (issue 9 §2, last bullet): the on-call alert is retried
until a real SMTP server (started later) accepts it, is delivered exactly once, and meanwhile
the admin shows it as not yet delivered (attempts, last error, next try).

On 34d4ec4 the alert was parked as a dead letter (``failed``) once it had been pending for
``NOTIFY_STUCK_AFTER`` (15 minutes) or its task had used its six retries (about 5 minutes),
and nothing sent it again: an emergency with an 8-hour period (Reg. (EU) 2023/1543 Art. 10(4))
whose on-call team was never told. An ordinary e-mail may still be parked.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app import notifications, tasks
from requests_app.models import LegalRequest, Notification, NotificationStatus
from requests_app.services.submission import request_submit
from requests_app.services.validation import request_validate
from requests_app.states import Status
from tests.conftest import validated
from tests.notifications.conftest import SmtpSink

from .conftest import assert_books_balance, decided, wait_for

ON_CALL = "oncall@provider.example"
EMERGENCY = {"emergency": True, "emergency_reason": "Imminent threat to the life of a person."}


def admin_pages(client: Client, request: LegalRequest) -> dict[str, str]:
    """The admin places that must show an undelivered emergency alert."""
    urls = {"notifications": "/admin/requests_app/notification/", "outbox": "/admin/outbox/outboxmessage/",
            "index": "/admin/", "request": f"/admin/requests_app/legalrequest/{request.pk}/change/"}
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        pages[name] = response.content.decode()
    return pages


def assert_admin_shows_undelivered(client: Client, request: LegalRequest, row: Notification) -> None:
    for name, html in admin_pages(client, request).items():
        assert "Emergency alert not yet delivered" in html, name
        assert f"emergency alert to {row.recipient} not yet delivered, {row.attempts} attempts" in html, name
        assert row.last_error.split(":")[0] in html, f"{name}: the last error is shown"
        assert row.deliver_after is not None
        assert "next try" in html and f"{row.deliver_after.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" in html, name


# --- in process, on the frozen clock: far longer than the old parking window ----------------


@pytest.fixture
def smtp_down(settings):
    """A real SMTP test server whose port is reserved and not listening yet (``sink.start()``)."""
    sink = SmtpSink()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", sink.port, 3
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.ON_CALL_EMAILS = [ON_CALL]
    settings.NOTIFY_DIGEST_MINUTES, settings.NOTIFY_QUIET_HOURS = 0, ""
    yield sink
    sink.stop()


def worker_delivery(outbox_id: int) -> list[int]:
    """What the worker does for one outbox event when every try fails: the first try in
    ``send_notifications``, then ``send_notification`` down to its last retry."""
    ids = notifications.plan(outbox_id)
    for notification_id in ids:
        with pytest.raises(ConnectionRefusedError):
            notifications.send(notification_id)
        max_retries = tasks.send_notification.max_retries
        assert tasks.send_notification.apply(args=(notification_id,), retries=max_retries).get() is False
    return ids


@pytest.mark.django_db(transaction=True)
def test_the_emergency_alert_is_retried_past_the_old_parking_window_until_delivered_once(
        no_publish, smtp_down, officer, legal_admin):
    sink = smtp_down
    request, _ = request_submit(actor=officer, data=validated(**EMERGENCY))
    request_validate(request_id=request.pk)
    request.refresh_from_db()
    assert request.is_open and request.status == Status.VERIFICATION_HOLD
    alert_ids = worker_delivery(OutboxMessage.objects.get(request=request, topic="alert.emergency").pk)
    ordinary_ids = worker_delivery(OutboxMessage.objects.get(request=request, topic="notify.new_request").pk)
    alerts = Notification.objects.filter(pk__in=alert_ids)
    assert sorted(alerts.values_list("recipient", flat=True)) == sorted([ON_CALL, legal_admin.email])
    # The worker's retries are used up: the alert is still pending, with its error and next try.
    assert set(alerts.values_list("status", "attempts")) == {(NotificationStatus.PENDING, 2)}
    on_call = alerts.get(recipient=ON_CALL)
    assert on_call.last_error.startswith("ConnectionRefusedError") and on_call.deliver_after > timezone.now()
    failing = AuditEvent.objects.filter(request_id=request.pk, action="notification.emergency_alert_failing")
    assert sorted(failing.values_list("data__recipient", flat=True)) == sorted([ON_CALL, legal_admin.email])

    admin = Client()
    admin.force_login(legal_admin)
    assert_admin_shows_undelivered(admin, request, on_call)

    start = timezone.now()
    cap = timedelta(seconds=settings.NOTIFY_EMERGENCY_RETRY_MAX_SECONDS)
    attempts = on_call.attempts
    # Minutes, then past NOTIFY_STUCK_AFTER (where 34d4ec4 parked it), then hours of outage.
    for offset in [timedelta(minutes=m) for m in (1, 3, 10, 16, 30)] + [timedelta(hours=h) for h in (1, 3, 7)]:
        with time_machine.travel(start + offset, tick=False):
            tasks.sweep_notifications.apply(throw=True).get()
            on_call.refresh_from_db()
            assert on_call.status == NotificationStatus.PENDING, f"parked after {offset}"
            assert on_call.attempts > attempts, f"tried again by {offset}"
            attempts = on_call.attempts
            assert timezone.now() < on_call.deliver_after <= timezone.now() + cap, "capped backoff"
            assert not alerts.exclude(status=NotificationStatus.PENDING).exists()
    # Ordinary e-mails of the same request were parked as dead letters past the window.
    assert set(Notification.objects.filter(pk__in=ordinary_ids).values_list("status", flat=True)) == {
        NotificationStatus.FAILED}
    assert failing.count() == 2, "the first failure is audited, not every retry"
    with time_machine.travel(start + timedelta(hours=7), tick=False):
        later = Client()  # the morning's session has expired: the evening's shift signs in
        later.force_login(legal_admin)
        assert_admin_shows_undelivered(later, request, on_call)
    assert sink.messages == []

    sink.start()  # the mail server is back
    end = on_call.deliver_after + timedelta(seconds=1)
    with time_machine.travel(end, tick=False):
        tasks.sweep_notifications.apply(throw=True).get()
        for _ in range(3):  # later beat ticks and a late retry of the worker's task send nothing more
            tasks.sweep_notifications.apply(throw=True).get()
            tasks.send_notification.apply(args=(on_call.pk,)).get()
    assert set(alerts.values_list("status", flat=True)) == {NotificationStatus.SENT}
    assert len(sink.to(ON_CALL)) == 1 and len(sink.to(legal_admin.email)) == 1, "delivered exactly once"
    assert "EMERGENCY" in sink.to(ON_CALL)[0].subject
    assert sink.recipients() == sorted([ON_CALL, legal_admin.email]), "the parked ordinary e-mails stay parked"
    delivered = AuditEvent.objects.get(request_id=request.pk, action="notification.emergency_alert_delivered",
                                       data__recipient=ON_CALL)
    on_call.refresh_from_db()
    assert delivered.data["attempts"] == on_call.attempts > 2
    with time_machine.travel(end + timedelta(minutes=1), tick=False):  # the clock never goes back
        later = Client()
        later.force_login(legal_admin)
        for name, html in admin_pages(later, request).items():
            assert "Emergency alert not yet delivered" not in html, name
    assert_books_balance([request.pk])


@pytest.mark.django_db(transaction=True)
def test_a_closed_request_s_alert_may_be_parked(no_publish, smtp_down, officer, legal_admin):
    """Only while the request is open: once withdrawn, the alert is an ordinary dead letter."""
    from requests_app.services.submission import request_withdraw

    request, _ = request_submit(actor=officer, data=validated(**EMERGENCY))
    alert_ids = worker_delivery(OutboxMessage.objects.get(request=request, topic="alert.emergency").pk)
    request_withdraw(actor=officer, request=LegalRequest.objects.get(pk=request.pk), reason="Found safe.")
    with time_machine.travel(timezone.now() + settings.NOTIFY_STUCK_AFTER + timedelta(minutes=1), tick=False):
        tasks.sweep_notifications.apply(throw=True).get()
    assert set(Notification.objects.filter(pk__in=alert_ids).values_list("status", flat=True)) == {
        NotificationStatus.FAILED}


# --- the real processes: worker, beat, gunicorn and a real SMTP server started later ----------


@pytest.mark.e2e
@pytest.mark.running_clock
def test_on_call_alert_retried_until_the_smtp_server_is_up(rig, rig_api, legal_admin):
    sink = SmtpSink()  # its port is reserved; nothing listens there yet
    # The rig's sweeper parks whatever is pending after 4 s (NOTIFY_STUCK_AFTER_SECONDS): the outage
    # lasts longer than that; the alert's retries are capped at 1 s.
    rig.env.update({"PORTAL_TEST_SMTP_PORT": str(sink.port), "ON_CALL_EMAILS": ON_CALL,
                    "NOTIFY_EMERGENCY_RETRY_MAX_SECONDS": "1"})
    rig.start_web()
    rig.start_worker()
    rig.start_beat()
    status, body = rig_api().submit(**EMERGENCY)
    assert status == 201, body
    request = LegalRequest.objects.get(reference=body["reference"])
    alert = Notification.objects.filter(request=request, event="alert.emergency", recipient=ON_CALL)

    wait_for(lambda: alert.filter(attempts__gte=1).exclude(last_error="").exists(), 20,
             "the first failed delivery of the on-call alert")
    row = alert.get()
    assert row.status == NotificationStatus.PENDING and row.sent_at is None
    assert "refused" in row.last_error.lower() or "connect" in row.last_error.lower(), row.last_error
    first_seen = row.created_at
    # Down for longer than the parking window (and the sweeper ran every 2 s meanwhile).
    wait_for(lambda: timezone.now() - first_seen > timedelta(seconds=8) and alert.get().attempts >= 3, 30,
             "the outage to outlast the old parking window")
    row = alert.get()
    assert row.status == NotificationStatus.PENDING, "never parked while the request is open"

    admin = Client()
    admin.force_login(legal_admin)
    page = admin.get("/admin/requests_app/notification/", {"status": NotificationStatus.PENDING})
    assert page.status_code == 200
    html = page.content.decode()
    assert ON_CALL in html and "alert.emergency" in html
    assert "Emergency alert not yet delivered" in html and "attempts, last error" in html
    assert row.last_error.split(":")[0] in html, "the error of the failing delivery is shown"
    request_page = admin.get(f"/admin/requests_app/legalrequest/{request.pk}/change/").content.decode()
    assert f"emergency alert to {ON_CALL} not yet delivered" in request_page
    assert sink.messages == []

    sink.start()
    try:
        took = wait_for(lambda: alert.filter(status=NotificationStatus.SENT).exists(), 25,
                        "the alert delivered once the SMTP server is up")
        row = alert.get()
        assert row.attempts >= 4, "delivered by a retry"
        wait_for(lambda: not Notification.objects.filter(request=request, event="alert.emergency",
                                                         status=NotificationStatus.PENDING).exists(), 10,
                 "every copy of the alert delivered")
        import time

        time.sleep(3)  # a few more sweeps: nothing is sent twice
        assert len(sink.to(ON_CALL)) == 1, "delivered once"
        assert "EMERGENCY" in sink.to(ON_CALL)[0].subject
        sent_page = admin.get("/admin/requests_app/notification/", {"status": NotificationStatus.SENT})
        assert ON_CALL in sent_page.content.decode()
    finally:
        sink.stop()
    assert AuditEvent.objects.filter(request_id=request.pk, action="notification.emergency_alert_delivered",
                                     data__recipient=ON_CALL).count() == 1
    wait_for(lambda: decided([request.pk]), 20, "the emergency validated")
    assert_books_balance([request.pk])
    print(f"on-call alert failed {row.attempts - 1} time(s), delivered {took:.1f} s after the SMTP server started")
