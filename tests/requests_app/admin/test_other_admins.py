"""The read-only audit trail, outbox and notification retry/discard (legal admins only),
timers, and the provider configuration page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit import trail as audit
from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app import tasks
from requests_app.models import Notification, Timer

from .conftest import login

pytestmark = pytest.mark.django_db

AUDIT = "/admin/audit/auditevent/"
OUTBOX = "/admin/outbox/outboxmessage/"
NOTIFICATIONS = "/admin/requests_app/notification/"
TIMERS = "/admin/requests_app/timer/"
PROVIDER = "/admin/requests_app/legalrequest/provider-configuration/"


def test_audit_trail_is_read_only_newest_first(as_reviewer, as_admin, make_request):
    obj = make_request()
    first = audit.record("request.note_added", request=obj)
    second = audit.record("request.message_sent", request=obj)
    response = as_admin.get(AUDIT)
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert [e.seq for e in rows][:2] == [second.seq, first.seq]
    assert as_admin.get(f"{AUDIT}add/").status_code == 403
    assert as_admin.get(f"{AUDIT}{first.pk}/delete/").status_code == 403
    assert as_admin.post(f"{AUDIT}{first.pk}/change/", {"action": "forged"}).status_code == 403
    assert AuditEvent.objects.get(pk=first.pk).action == "request.note_added"
    assert as_reviewer.get(f"{AUDIT}?action=request.message_sent").context["cl"].result_list[0].pk == second.pk
    assert as_reviewer.get(f"{AUDIT}?q={obj.pk}").status_code == 200


def test_audit_list_runs_no_distinct_and_no_full_count(as_admin, make_request):
    obj = make_request()
    for _ in range(30):
        audit.record("request.note_added", request=obj)
    as_admin.get(AUDIT)
    with CaptureQueriesContext(connection) as ctx:
        as_admin.get(AUDIT)
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert not any("DISTINCT" in s for s in sqls)
    assert all("LIMIT" in s for s in sqls if "COUNT(" in s)


def _failed_outbox(obj) -> OutboxMessage:
    return OutboxMessage.objects.create(topic="notify.decision", request=obj, status="failed", attempts=12,
                                        last_error="SMTP down")


def test_outbox_retry_and_discard_by_a_legal_admin(as_admin, make_request):
    obj = make_request()
    retried, discarded = _failed_outbox(obj), _failed_outbox(obj)
    response = as_admin.post(OUTBOX, {"action": "retry", "_selected_action": [retried.pk]})
    assert response.status_code == 302
    retried.refresh_from_db()
    assert retried.status == "pending" and retried.attempts == 0
    as_admin.post(OUTBOX, {"action": "discard", "_selected_action": [discarded.pk]})
    discarded.refresh_from_db()
    assert discarded.status == "discarded"
    actions = list(AuditEvent.objects.filter(action__startswith="outboxmessage.").values_list("action", flat=True))
    assert actions == ["outboxmessage.retried", "outboxmessage.discarded"]


def test_a_reviewer_cannot_retry_or_discard(as_reviewer, make_request):
    message = _failed_outbox(make_request())
    page = as_reviewer.get(OUTBOX)
    assert page.status_code == 200 and 'value="retry"' not in page.content.decode()
    as_reviewer.post(OUTBOX, {"action": "retry", "_selected_action": [message.pk]})
    as_reviewer.post(OUTBOX, {"action": "discard", "_selected_action": [message.pk]})
    message.refresh_from_db()
    assert message.status == "failed"


def test_notification_retry_requeues_the_send_task(as_admin, make_request, monkeypatch,
                                                   django_capture_on_commit_callbacks):
    obj = make_request()
    outbox = _failed_outbox(obj)
    failed = Notification.objects.create(key="k1", outbox=outbox, request=obj, event="decision",
                                         recipient="officer@example.org", subject="s", status="failed")
    sent = Notification.objects.create(key="k2", outbox=outbox, request=obj, event="decision",
                                       recipient="officer@example.org", subject="s", status="sent")
    queued = []
    monkeypatch.setattr(tasks.send_notification, "apply_async", lambda args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        as_admin.post(NOTIFICATIONS, {"action": "retry", "_selected_action": [failed.pk, sent.pk]})
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert failed.status == "pending" and sent.status == "sent"
    assert queued == [(failed.pk,)]
    as_admin.post(NOTIFICATIONS, {"action": "discard", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == "discarded"


def test_timers_are_read_only(as_admin, make_request):
    from django.utils import timezone

    timer = Timer.objects.create(request=make_request(), kind="deadline_due", due_at=timezone.now())
    assert as_admin.get(TIMERS).status_code == 200
    assert as_admin.get(f"{TIMERS}{timer.pk}/change/").status_code == 200
    assert as_admin.get(f"{TIMERS}add/").status_code == 403


def test_provider_configuration_page_is_read_only_and_linked(as_reviewer, settings):
    page = as_reviewer.get(PROVIDER)
    assert page.status_code == 200
    html = page.content.decode()
    assert "establishment_country" in html and "<form" not in html.split('id="content-main"')[1]
    assert PROVIDER in as_reviewer.get("/admin/").content.decode()


def test_provider_configuration_refused_outside_the_legal_team(officer):
    from .conftest import staff

    assert login(officer).get(PROVIDER).status_code == 302
    assert login(staff("it@provider.example")).get(PROVIDER).status_code == 403


def test_old_admin_links_of_the_moved_audit_and_outbox_pages_still_land(as_reviewer, make_request):
    """The audit trail and the outbox moved to apps of their own; a bookmarked page redirects."""
    from audit import trail

    event = trail.record("request.viewed", request=make_request())
    response = as_reviewer.get(f"/admin/requests_app/auditevent/{event.pk}/change/?x=1")
    assert response.status_code == 301
    assert response["Location"] == f"/admin/audit/auditevent/{event.pk}/change/?x=1"
    assert as_reviewer.get(response["Location"]).status_code == 200
    response = as_reviewer.get("/admin/requests_app/outboxmessage/")
    assert (response.status_code, response["Location"]) == (301, "/admin/outbox/outboxmessage/")
