"""Issue 14 item 5: an emergency cannot leave verification without a confirmed call-back,
whatever path it took (the guard in workflow.transition, not the callers)."""

from __future__ import annotations

import pytest

from requests_app.models import LegalRequest
from requests_app.services import review
from requests_app.services.validation import MAX_ATTEMPTS, request_validate
from requests_app.states import Status
from requests_app.workflow import TransitionGuardFailed, lock_request, transition

from .test_deadlines import DSA

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("overrides", [
    {"emergency": True, "emergency_reason": "Threat to life", "validation": None},
    {"instrument": "emergency_disclosure", "emergency": False, "emergency_reason": "Threat to life"},
    {"instrument": "dsa_information_order", "dsa": DSA, "emergency": True, "emergency_reason": "Threat to life"},
], ids=["epoc", "disclosure_flag_false", "dsa"])
def test_no_shell_or_task_moves_an_unverified_emergency_from_validating_to_review(submit, overrides, reviewer):
    request = transition(lock_request(submit(validate=False, **overrides)), Status.VALIDATING, reason="intake")
    with pytest.raises(TransitionGuardFailed) as refused:
        transition(lock_request(request), Status.IN_REVIEW, actor=reviewer, reason="shell")
    assert "call-back" in refused.value.reason
    request.refresh_from_db()
    assert request.status == Status.VALIDATING


@pytest.mark.parametrize("overrides", [
    {"instrument": "emergency_disclosure", "emergency": False, "emergency_reason": "Threat to life"},
    {"instrument": "dsa_information_order", "dsa": DSA, "emergency": True, "emergency_reason": "Threat to life"},
], ids=["disclosure_flag_false", "dsa"])
def test_validation_holds_every_emergency(submit, overrides):
    request = submit(**overrides)
    # Held for the call-back, or sent back for a clarification: never worked unverified.
    assert request.status in {Status.VERIFICATION_HOLD, Status.CLARIFICATION_REQUESTED}, request.decision
    assert request.status != Status.IN_REVIEW


def test_giving_up_on_validation_still_holds_an_emergency(submit):
    request = submit(validate=False, emergency=True, emergency_reason="Threat to life", validation=None)
    LegalRequest.objects.filter(pk=request.pk).update(validation_attempts=MAX_ATTEMPTS + 5)
    request_validate(request_id=request.pk)
    request.refresh_from_db()
    assert request.status == Status.VERIFICATION_HOLD


def test_dsa_emergency_is_worked_after_a_confirmed_callback(submit, reviewer):
    request = submit(instrument="dsa_information_order", dsa=DSA, emergency=True, emergency_reason="Threat to life")
    review.emergency_callback_record(actor=reviewer, request=request, outcome="confirmed", person_reached="Duty")
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
