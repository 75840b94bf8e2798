"""Deadlines as timer rows (DESIGN.md §4.4, domain.md §7 and §12.3-12.4, security.md §4.G)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings

from outbox.models import OutboxMessage
from requests_app.models import Timer
from requests_app.services import review
from requests_app.services.submission import clarification_submit
from requests_app.services.validation import request_validate
from requests_app.states import Status
from requests_app.timers import fire_due

from .conftest import last_seq, open_timers, transitions

pytestmark = pytest.mark.django_db

DSA = {"legal_basis": "Art. 10 DSA", "statement_of_reasons": "Identify the seller.",
       "redress_information": "Tribunal administratif", "territorial_scope": "FR", "content_urls": []}
LIFECYCLES = {
    "production": {},
    "preservation": {"instrument": "epoc_pr"},
    "dsa": {"instrument": "dsa_information_order", "dsa": DSA},
    "emergency": {"instrument": "emergency_disclosure", "emergency": True, "emergency_reason": "Threat to life"},
}


def deadline_alerts(request) -> list[str]:
    return list(OutboxMessage.objects.filter(request=request, topic__startswith="alert.deadline_")
                .order_by("id").values_list("topic", flat=True))


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
def test_warn_and_breach_are_shares_of_the_period(submit, lifecycle):
    request = submit(**LIFECYCLES[lifecycle])
    assert request.lifecycle == lifecycle
    shares = settings.DEADLINE_LEVELS[lifecycle]
    period = request.due_at - request.received_at
    assert period > timedelta(0)
    tolerance = timedelta(milliseconds=1)
    assert abs(request.warn_at - (request.received_at + period * shares["warn"])) < tolerance
    assert abs(request.breach_at - (request.received_at + period * shares["breach"])) < tolerance
    timers = open_timers(request)
    assert (timers["deadline_warn"], timers["deadline_breach"], timers["deadline_due"]) == (
        request.warn_at, request.breach_at, request.due_at)


def test_production_warns_at_seventy_percent_of_ten_days(submit):
    request = submit()
    assert request.due_at - request.received_at == timedelta(days=10)
    assert request.warn_at - request.received_at == timedelta(days=7)
    assert request.breach_at - request.received_at == timedelta(days=9)


@pytest.mark.parametrize(("level", "expected"), [
    ("warn_at", ["alert.deadline_warn"]),
    ("breach_at", ["alert.deadline_warn", "alert.deadline_breach"]),
    ("due_at", ["alert.deadline_warn", "alert.deadline_breach", "alert.deadline_due"]),
])
def test_crossing_a_level_alerts_exactly_once(submit, level, expected):
    request = submit()
    moment = getattr(request, level)
    with time_machine.travel(moment - timedelta(seconds=1), tick=False):
        fire_due()
    assert deadline_alerts(request) == expected[:-1]
    with time_machine.travel(moment + timedelta(seconds=1), tick=False):
        fire_due()
        fire_due()  # a duplicate beat tick
    assert deadline_alerts(request) == expected
    with time_machine.travel(moment + timedelta(days=30), tick=False):
        fire_due()
    assert len(deadline_alerts(request)) == 3
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW, "a deadline alerts; it never moves the request"


def test_refiring_a_fired_timer_is_a_no_op(submit):
    from requests_app.timers import fire

    request = submit()
    timer = Timer.objects.get(request=request, kind="deadline_warn")
    with time_machine.travel(request.warn_at + timedelta(seconds=1), tick=False):
        assert fire(timer.pk) is True
        assert fire(timer.pk) is False
    assert deadline_alerts(request) == ["alert.deadline_warn"]


@pytest.fixture
def clarifying(submit, reviewer):
    request = submit()
    with time_machine.travel(request.received_at + timedelta(days=2), tick=False):
        review.clarification_request(actor=reviewer, request=request, clarification_asked="Which account?",
                                     reasons=[{"identifier": "targets[0]", "reasons": ["insufficient_information"]}])
    request.refresh_from_db()
    assert request.status == Status.CLARIFICATION_REQUESTED
    return request


def test_clarification_pauses_the_deadline_timers(clarifying):
    assert not {"deadline_warn", "deadline_breach", "deadline_due"} & set(open_timers(clarifying))
    with time_machine.travel(clarifying.received_at + timedelta(days=12), tick=False):
        fire_due()
    assert deadline_alerts(clarifying) == []


def test_no_reminder_of_the_old_production_deadline_while_paused(clarifying):
    assert "production_due" not in open_timers(clarifying)
    with time_machine.travel(clarifying.received_at + timedelta(days=12), tick=False):
        fire_due()
    assert not OutboxMessage.objects.filter(request=clarifying, topic="alert.reminder").exists()


def test_the_answer_restarts_the_production_period_in_full(clarifying, officer):
    old_due = clarifying.due_at
    answered_at = clarifying.received_at + timedelta(days=5, hours=3)
    with time_machine.travel(answered_at, tick=False):
        clarification_submit(actor=officer, request=clarifying, message="The account is suspect_account.",
                             changes={})
        request_validate(request_id=clarifying.pk)
    clarifying.refresh_from_db()
    assert clarifying.status == Status.IN_REVIEW
    assert timedelta(days=10) <= clarifying.due_at - answered_at <= timedelta(days=11)
    assert clarifying.due_at > old_due
    assert open_timers(clarifying)["deadline_due"] == clarifying.due_at
    assert abs(clarifying.warn_at - (answered_at + (clarifying.due_at - answered_at) * 0.7)) < timedelta(seconds=1)
    # The new timers fire from the new start, not the original receipt.
    with time_machine.travel(old_due + timedelta(hours=1), tick=False):
        fire_due()
    assert deadline_alerts(clarifying) == []


def test_ex_post_validation_mark_is_information_only(submit):
    request = submit(emergency=True, emergency_reason="Kidnapping in progress", validation=None)
    assert request.status == Status.VERIFICATION_HOLD
    mark = Timer.objects.get(request=request, kind="ex_post_validation_mark")
    assert mark.due_at - request.received_at == timedelta(hours=48)
    assert mark.payload["informational"] is True
    seq = last_seq()
    with time_machine.travel(mark.due_at + timedelta(minutes=1), tick=False):
        fire_due()
    mark.refresh_from_db()
    request.refresh_from_db()
    assert mark.fired_at is not None
    assert request.status == Status.VERIFICATION_HOLD and transitions(request, seq) == []
    assert not OutboxMessage.objects.filter(request=request, payload__timer_id=mark.pk).exists()
