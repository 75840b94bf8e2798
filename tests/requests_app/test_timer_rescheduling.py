"""Re-scheduling a timer whose due time did not change (issue 10 item 1).

Cancelled rows must not block the new open timer: only open timers are unique per
(request, kind, due_at).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from requests_app.models import Timer
from requests_app.services import review
from requests_app.services.deadlines import recompute_stale
from requests_app.services.submission import clarification_submit, request_submit
from requests_app.services.validation import request_validate
from requests_app.states import Status
from tests.conftest import validated

pytestmark = pytest.mark.django_db


def open_timers(request) -> dict[str, object]:
    return dict(Timer.objects.filter(request=request, fired_at__isnull=True, cancelled_at__isnull=True)
                .values_list("kind", "due_at"))


def submitted(officer, **overrides):
    request, _ = request_submit(actor=officer, data=validated(**overrides))
    request_validate(request_id=request.pk)
    request.refresh_from_db()
    return request


def test_a_recompute_that_moves_nothing_keeps_every_open_timer(officer, settings):
    request = submitted(officer, instrument="epoc_pr", data_categories=["subscriber"])
    assert request.status == Status.PRESERVING
    before = open_timers(request)
    assert {"preservation_expiry", "preservation_expiry_notice", "deadline_due"} <= set(before)

    # A configuration change that does not move any deadline (one more declared language).
    settings.PROVIDER_RULES = {**settings.PROVIDER_RULES,
                               "DECLARED_LANGUAGES": [*settings.PROVIDER_RULES["DECLARED_LANGUAGES"], "es"]}
    assert recompute_stale() == 1
    request.refresh_from_db()
    assert open_timers(request) == before
    assert Timer.objects.filter(request=request, cancelled_at__isnull=False).count() == len(before)


def test_a_second_recompute_back_to_the_first_configuration_restores_the_timers(officer, settings):
    request = submitted(officer, instrument="epoc_pr", data_categories=["subscriber"])
    original = settings.PROVIDER_RULES
    before = open_timers(request)
    settings.PROVIDER_RULES = {**original, "DAY_RULES": {"eevidence_preservation": {"mode": "calendar_days"}}}
    assert recompute_stale() == 1
    assert open_timers(request) != before
    settings.PROVIDER_RULES = original
    assert recompute_stale() == 1
    assert open_timers(request) == before


def test_a_clarification_round_keeps_the_timers_whose_due_time_did_not_move(officer, reviewer):
    """The 48-hour ex-post validation mark counts from receipt: the answer does not move it."""
    request = submitted(officer, emergency=True, emergency_reason="Kidnapping in progress", validation=None)
    mark = Timer.objects.get(request=request, kind="ex_post_validation_mark")
    from requests_app.models import CallbackOutcome

    review.emergency_callback_record(actor=reviewer, request=request, outcome=CallbackOutcome.CONFIRMED)
    request.refresh_from_db()
    with time_machine.travel(request.received_at + timedelta(hours=2), tick=False):
        review.clarification_request(actor=reviewer, request=request, clarification_asked="Which account?",
                                     reasons=[{"identifier": "targets[0]",
                                               "reasons": ["insufficient_information"]}])
    with time_machine.travel(request.received_at + timedelta(hours=3), tick=False):
        clarification_submit(actor=officer, request=request, message="The account is suspect_account.",
                             changes={})
        request_validate(request_id=request.pk)
    request.refresh_from_db()
    assert request.status not in {Status.CLARIFICATION_REQUESTED, Status.VALIDATING}
    assert open_timers(request).get("ex_post_validation_mark") == mark.due_at


def test_a_timer_that_already_fired_is_not_fired_again_by_a_later_round(officer, reviewer):
    """Fired rows still count: re-scheduling the same instant after it passed fires nothing twice."""
    from audit.models import AuditEvent
    from requests_app.models import CallbackOutcome
    from requests_app.timers import fire_due

    request = submitted(officer, emergency=True, emergency_reason="Kidnapping in progress", validation=None)
    review.emergency_callback_record(actor=reviewer, request=request, outcome=CallbackOutcome.CONFIRMED)
    mark = Timer.objects.get(request=request, kind="ex_post_validation_mark")
    with time_machine.travel(mark.due_at + timedelta(minutes=1), tick=False):
        fire_due()
        review.clarification_request(actor=reviewer, request=request, clarification_asked="Which account?",
                                     reasons=[{"identifier": "targets[0]",
                                               "reasons": ["insufficient_information"]}])
    with time_machine.travel(mark.due_at + timedelta(hours=1), tick=False):
        clarification_submit(actor=officer, request=request, message="The account is suspect_account.",
                             changes={})
        request_validate(request_id=request.pk)
        fire_due()
    marks = Timer.objects.filter(request=request, kind="ex_post_validation_mark", cancelled_at__isnull=True)
    assert [(t.pk, t.fired_at is not None) for t in marks] == [(mark.pk, True)]
    fired = AuditEvent.objects.filter(request_id=request.pk, action="timer.fired", data__kind="ex_post_validation_mark")
    assert fired.count() == 1
