"""The legal admin's "select all" on dead letters hands the service every matching id, which after
an outage can be more than the 65,535 parameters PostgreSQL takes per statement (server-side
binding: one per IN value). The services read, lock and update them in chunks
(portal/id_chunks.py) in their one transaction: every row found, none twice, each audited once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from outbox.models import OutboxMessage, OutboxStatus
from portal.id_chunks import MAX_IDS_PER_STATEMENT, id_chunks
from requests_app.models import Timer
from requests_app.services import dead_letters

pytestmark = pytest.mark.django_db

MORE_THAN_A_STATEMENT_TAKES = 65_536


def test_chunks_are_distinct_ascending_and_bounded():
    chunks = list(id_chunks([5, 3, 3, *range(10, 25_010)], size=MAX_IDS_PER_STATEMENT))
    assert [len(c) for c in chunks] == [10_000, 10_000, 5_002]
    flat = [i for c in chunks for i in c]
    assert flat == sorted(set(flat)) and flat[:2] == [3, 5]


def test_dead_timers_beyond_a_statements_parameters_are_retried_each_once(legal_admin, make_request):
    now = timezone.now()
    request = make_request()
    timers = [Timer.objects.create(request=request, kind=f"k{i}", due_at=now - timedelta(hours=1), attempts=5,
                                   last_error="boom", dead_at=now) for i in range(3)]
    # The real ids spread over different chunks, among ids that match no row.
    ids = [*range(10**9, 10**9 + MORE_THAN_A_STATEMENT_TAKES), *(t.pk for t in timers), timers[0].pk]
    assert dead_letters.timer_retry(actor=legal_admin, ids=ids) == 3
    assert not Timer.objects.filter(pk__in=[t.pk for t in timers], dead_at__isnull=False).exists()
    assert AuditEvent.objects.filter(action="timer.retried").count() == 3


def test_failed_outbox_rows_beyond_a_statements_parameters_are_discarded(legal_admin, make_request):
    request = make_request()
    rows = [OutboxMessage.objects.create(topic="notify.new_request", request=request, status=OutboxStatus.FAILED)
            for _ in range(2)]
    ids = [*range(10**9, 10**9 + MORE_THAN_A_STATEMENT_TAKES), *(r.pk for r in rows)]
    assert dead_letters.discard(actor=legal_admin, model=OutboxMessage, ids=ids) == 2
    assert set(OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).values_list("status", flat=True)) == {
        OutboxStatus.DISCARDED}
    assert AuditEvent.objects.filter(action="outboxmessage.discarded").count() == 2
    assert dead_letters.outbox_retry(actor=legal_admin, ids=ids) == 2
