"""The report's first times are written with the move that sets them (issue 9 item 5): the
decision's own UPDATE stores ``first_acknowledged_at`` at its audit event's time, so the audit
trigger of 0025/0029 no longer writes a further version of the request row; the stored facts
stay exactly the audit trail's (``reports.stored_facts_mismatches``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from audit import trail as audit
from audit.models import AuditChain, AuditEvent
from requests_app import reports
from requests_app.models import LegalRequest
from requests_app.services.validation import request_validate
from requests_app.states import Status
from requests_app.workflow import lock_request, transition

# SQLite (embedded mode) keeps 0025's row triggers: the move does not write the facts there.
pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(connection.vendor != "postgresql", reason="row versions and triggers: PostgreSQL")]


def row_updates() -> int:
    """Row versions of the requests table written by updates, this transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'requests_app_legalrequest'")
        found = cursor.fetchone()
    return found[0] if found else 0


def moved_at(request: LegalRequest, target: str) -> list:
    return list(AuditEvent.objects.filter(request_id=request.pk, action="request.status_changed", data__to=target)
                .order_by("seq").values_list("occurred_at", flat=True))


def stored(request: LegalRequest, column: str = "first_acknowledged_at"):
    return LegalRequest.objects.filter(pk=request.pk).values_list(column, flat=True).get()


def test_the_validation_writes_the_request_row_once_with_its_first_time(submit):
    request = submit(validate=False)
    before = row_updates()
    request_validate(request_id=request.pk)
    # The claim and the decision in one UPDATE, the acknowledgement in it: no trigger's version.
    assert row_updates() == before + 1
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
    assert request.first_acknowledged_at == moved_at(request, Status.IN_REVIEW)[0]
    assert reports.stored_facts_mismatches() == []


@pytest.fixture
def received(submit) -> LegalRequest:
    return submit(validate=False)


def decide(request: LegalRequest, *, between=None) -> LegalRequest:
    """received -> validating -> in_review in one audit batch, as the validation's first delivery."""
    with transaction.atomic(), audit.batch():
        locked = lock_request(request.pk)
        transition(locked, Status.VALIDATING, defer_save=True)
        transition(locked, Status.IN_REVIEW)
        if between is not None:
            between(locked)
    return locked


def test_the_events_carry_the_time_the_move_stored(received):
    locked = decide(received)
    events = AuditEvent.objects.filter(request_id=received.pk, action="request.status_changed")
    assert {e.occurred_at for e in events} == {locked.first_acknowledged_at}
    assert stored(received) == locked.first_acknowledged_at
    assert AuditChain.objects.get(key=f"r:{received.pk}").last_at == locked.first_acknowledged_at
    assert reports.stored_facts_mismatches() == []
    assert audit.verify_chain() is None


def test_a_later_event_of_the_chain_meanwhile_gets_the_facts_from_the_trail(received, frozen_clock):
    """Another writer appended to the request's chain after the time was read: the events may
    not go back in time, so they get a later one and the facts are recomputed from the trail."""
    promised = {}

    def another_writer(locked: LegalRequest) -> None:
        promised["at"] = locked.first_acknowledged_at
        frozen_clock.shift(timedelta(seconds=1))
        AuditChain.objects.filter(key=f"r:{locked.pk}").update(last_at=timezone.now())
        frozen_clock.shift(timedelta(seconds=1))

    decide(received, between=another_writer)
    (acknowledged,) = moved_at(received, Status.IN_REVIEW)
    assert acknowledged > promised["at"]
    assert stored(received) == acknowledged
    assert reports.stored_facts_mismatches() == []
    assert audit.verify_chain() is None


def test_a_stale_copy_of_the_row_never_raises_a_first_time(received):
    first = decide(received).first_acknowledged_at
    with transaction.atomic(), audit.batch():
        locked = lock_request(received.pk)
        locked.first_acknowledged_at = None  # as a relocked copy that its own trigger writes bypassed
        transition(locked, Status.CLARIFICATION_REQUESTED)
    assert stored(received) == first
    assert reports.stored_facts_mismatches() == []


def test_a_move_outside_an_audit_batch_is_still_kept_by_the_trigger(received):
    with transaction.atomic():
        locked = lock_request(received.pk)
        transition(locked, Status.VALIDATING)
        transition(locked, Status.IN_REVIEW)
    assert stored(received) == moved_at(received, Status.IN_REVIEW)[0]
    assert reports.stored_facts_mismatches() == []


def test_a_plain_update_may_still_set_a_fact_later(received):
    """0031's trigger guards status moves only: repairs and the backfill write what they compute."""
    first = decide(received).first_acknowledged_at
    LegalRequest.objects.filter(pk=received.pk).update(first_acknowledged_at=first + timedelta(hours=1))
    assert stored(received) == first + timedelta(hours=1)
