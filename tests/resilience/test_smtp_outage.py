"""SMTP down when an emergency arrives (issue 9 §1b): the on-call alert is retried by the real
worker until a real SMTP server (started later) accepts it, and meanwhile the legal admin's
notifications admin shows the failing delivery with its error."""

from __future__ import annotations

import pytest
from django.test import Client

from requests_app.models import LegalRequest, Notification, NotificationStatus
from tests.notifications.conftest import SmtpSink

from .conftest import assert_books_balance, decided, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.running_clock]

ON_CALL = "oncall@provider.example"


def test_on_call_alert_retried_until_the_smtp_server_is_up(rig, rig_api, legal_admin):
    sink = SmtpSink()  # its port is reserved; nothing listens there yet
    rig.env.update({"PORTAL_TEST_SMTP_PORT": str(sink.port), "ON_CALL_EMAILS": ON_CALL,
                    "NOTIFY_STUCK_AFTER_SECONDS": "120"})  # the worker's retries, not the sweeper, deliver
    rig.start_web()
    rig.start_worker()
    status, body = rig_api().submit(emergency=True, emergency_reason="Imminent threat to the life of a person.")
    assert status == 201, body
    request = LegalRequest.objects.get(reference=body["reference"])
    alert = Notification.objects.filter(request=request, event="alert.emergency", recipient=ON_CALL)

    wait_for(lambda: alert.filter(attempts__gte=1).exclude(last_error="").exists(), 20,
             "the first failed delivery of the on-call alert")
    row = alert.get()
    assert row.status == NotificationStatus.PENDING and row.sent_at is None
    assert "refused" in row.last_error.lower() or "connect" in row.last_error.lower(), row.last_error

    admin = Client()
    admin.force_login(legal_admin)
    page = admin.get("/admin/requests_app/notification/", {"status": NotificationStatus.PENDING})
    assert page.status_code == 200
    html = page.content.decode()
    assert ON_CALL in html and "alert.emergency" in html
    assert row.last_error.split(":")[0] in html, "the error of the failing delivery is shown"
    assert sink.messages == []

    sink.start()
    try:
        took = wait_for(lambda: alert.filter(status=NotificationStatus.SENT).exists(), 25,
                        "the alert delivered once the SMTP server is up")
        row = alert.get()
        assert row.attempts >= 2, "delivered by a retry"
        assert len(sink.to(ON_CALL)) == 1, "delivered once"
        assert "EMERGENCY" in sink.to(ON_CALL)[0].subject
        sent_page = admin.get("/admin/requests_app/notification/", {"status": NotificationStatus.SENT})
        assert ON_CALL in sent_page.content.decode()
    finally:
        sink.stop()
    wait_for(lambda: decided([request.pk]), 20, "the emergency validated")
    assert_books_balance([request.pk])
    print(f"on-call alert failed {row.attempts - 1} time(s), delivered {took:.1f} s after the SMTP server started")
