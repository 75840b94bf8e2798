"""Notifications never lost (issue 16 §2): a notification left ``pending`` after its task and
retries are gone (the worker died, or the database was down when ``mark_failed`` ran) is
tried once more by the beat sweeper and, if it still fails, parked as a dead letter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import RequestFactory
from django.utils import timezone

from outbox.models import OutboxMessage
from requests_app import notifications, tasks
from requests_app.admin import NotificationAdmin
from requests_app.models import Notification

pytestmark = pytest.mark.django_db


def test_the_beat_schedule_runs_the_notification_sweeper_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-notifications"]
    assert entry["task"] == "requests_app.tasks.sweep_notifications"
    assert entry["schedule"] <= 60
    assert timedelta(seconds=sum(min(5 * 2**n, 600) for n in range(6))) < settings.NOTIFY_STUCK_AFTER


def test_stuck_pending_notifications_are_sent_or_parked_as_dead_letters(submit, smtp, officer, team):
    request = submit()
    ids = notifications.plan(OutboxMessage.objects.get(request=request, topic="notify.new_request").pk)
    assert len(ids) == 6
    # Their tasks are gone; nobody will ever send them. Two are past the bound, one is recent.
    stuck = ids[:5]
    Notification.objects.filter(pk__in=stuck).update(
        created_at=timezone.now() - settings.NOTIFY_STUCK_AFTER - timedelta(seconds=1))
    refused = Notification.objects.get(pk=stuck[0])
    smtp.refuse(refused.recipient)

    assert tasks.sweep_notifications.apply(throw=True).get() == {"sent": 4, "parked": 1}

    rows = {n.pk: n for n in Notification.objects.filter(pk__in=ids)}
    assert [rows[pk].status for pk in stuck[1:]] == ["sent"] * 4
    assert rows[refused.pk].status == "failed"
    assert "parked by the sweeper" in rows[refused.pk].last_error
    assert rows[ids[5]].status == "pending", "within the bound its own task may still deliver it"
    assert sorted(smtp.recipients()) == sorted(rows[pk].recipient for pk in stuck[1:])

    # The dead letter is in the admin's list of failed notifications.
    model_admin = NotificationAdmin(Notification, admin.site)
    http = RequestFactory().get("/admin/requests_app/notification/", {"status__exact": "failed"})
    http.user = team.admin
    changelist = model_admin.get_changelist_instance(http)
    assert [n.pk for n in changelist.get_queryset(http)] == [refused.pk]

    # A second sweep finds nothing left pending past the bound.
    assert tasks.sweep_notifications.apply(throw=True).get() == {"sent": 0, "parked": 0}
