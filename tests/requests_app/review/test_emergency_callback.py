"""Emergency call-back (security.md §1.6 R1/R3, §4.D E1-E3): an emergency request is held until a
call to the authority's registry switchboard confirms it, and then still needs four eyes."""

from __future__ import annotations

import pytest

from outbox.models import OutboxMessage
from requests_app.models import Approval, CallbackVerification
from requests_app.services import delivery, review
from requests_app.services.errors import InvalidState, ServiceError
from requests_app.states import Status
from requests_app.workflow import TransitionGuardFailed, lock_request, transition
from tests.conftest import approve_seen
from tests.four_eyes import approve_annex

from .conftest import actions, last_seq, open_timers, topics, transitions, upload

pytestmark = pytest.mark.django_db

ATTACKER_PHONE = "+33699999999"


@pytest.fixture(params=["emergency_epoc", "emergency_disclosure"])
def held(request, submit):
    """An emergency EPOC (police, unvalidated) and a voluntary emergency disclosure, both held."""
    if request.param == "emergency_epoc":
        overrides = {"emergency": True, "validation": None}
    else:
        overrides = {"instrument": "emergency_disclosure", "emergency": True}
    legal_request = submit(emergency_reason=f"Child in danger, call me back on {ATTACKER_PHONE}",
                           targets=[{"kind": "phone", "value": ATTACKER_PHONE}], **overrides)
    assert legal_request.status == Status.VERIFICATION_HOLD, legal_request.decision
    assert "alert.emergency" in topics(legal_request)
    return legal_request


def test_leaving_the_hold_without_a_confirmed_callback_is_refused_even_by_transition(held, reviewer):
    seq = last_seq()
    with pytest.raises(TransitionGuardFailed) as refused:
        transition(lock_request(held), Status.IN_REVIEW, actor=reviewer, reason="shell")
    assert "call-back" in refused.value.reason
    held.refresh_from_db()
    assert held.status == Status.VERIFICATION_HOLD and actions(held, seq) == []


def test_nothing_can_be_prepared_while_held(held, reviewer):
    with pytest.raises(InvalidState):
        delivery.response_prepare(actor=reviewer, request=held, files=[upload()])


def test_the_callback_uses_the_registry_number_never_one_from_the_request(held, reviewer, authority):
    call = review.emergency_callback_record(actor=reviewer, request=held, outcome="no_answer")
    assert call.phone_called == authority.switchboard_phone == "+33100000000"
    assert call.phone_called != ATTACKER_PHONE
    assert ATTACKER_PHONE not in CallbackVerification.objects.get().phone_called


def test_confirmed_callback_moves_to_review(held, reviewer):
    seq = last_seq()
    call = review.emergency_callback_record(actor=reviewer, request=held, outcome="confirmed",
                                            person_reached="Duty officer Martin")
    held.refresh_from_db()
    assert held.status == Status.IN_REVIEW
    assert actions(held, seq) == ["emergency.callback", "request.status_changed"]
    assert transitions(held, seq) == [("verification_hold", "in_review")]
    assert call.outcome == "confirmed" and call.called_by == reviewer


def test_not_confirmed_refuses_as_suspected_fraud_and_alerts(held, reviewer, approver):
    seq = last_seq()
    call = review.emergency_callback_record(actor=reviewer, request=held, outcome="not_confirmed")
    held.refresh_from_db()
    # The alert and the account hold are immediate; the refusal waits for a second person.
    assert held.status == Status.VERIFICATION_HOLD
    assert actions(held, seq) == ["emergency.callback", "annex_iii.drafted", "officer.suspended_pending_review"]
    alert = OutboxMessage.objects.get(request=held, topic="alert.suspected_fraud")
    assert alert.payload == {"callback_id": call.pk, "actor_id": reviewer.pk}
    approve_annex(approver, review.pending_refusal(held))
    held.refresh_from_db()
    assert held.status == Status.REFUSED and held.resolution == "not_verified"
    assert open_timers(held) == {}


def test_no_answer_stays_held_and_may_be_retried(held, reviewer):
    seq = last_seq()
    review.emergency_callback_record(actor=reviewer, request=held, outcome="no_answer")
    held.refresh_from_db()
    assert held.status == Status.VERIFICATION_HOLD
    assert actions(held, seq) == ["emergency.callback"]
    review.emergency_callback_record(actor=reviewer, request=held, outcome="confirmed")
    held.refresh_from_db()
    assert held.status == Status.IN_REVIEW
    assert CallbackVerification.objects.filter(request=held).count() == 2


@pytest.mark.parametrize("outcome", ["maybe", ""])
def test_an_unknown_outcome_is_refused(held, reviewer, outcome):
    seq = last_seq()
    with pytest.raises(ServiceError):
        review.emergency_callback_record(actor=reviewer, request=held, outcome=outcome)
    assert not CallbackVerification.objects.exists() and actions(held, seq) == []


def test_a_callback_outside_the_hold_is_refused(submit, reviewer):
    request = submit()
    with pytest.raises(InvalidState):
        review.emergency_callback_record(actor=reviewer, request=request, outcome="confirmed")
    assert not CallbackVerification.objects.exists()


def test_after_the_callback_four_eyes_still_apply(held, reviewer, approver, approver2):
    review.emergency_callback_record(actor=reviewer, request=held, outcome="confirmed")
    held.refresh_from_db()
    delivery.response_prepare(actor=approver, request=held, files=[upload()])
    with pytest.raises(ServiceError) as refused:
        approve_seen(actor=approver, request=held)
    assert refused.value.code == "four_eyes"
    held.refresh_from_db()
    assert held.status == Status.IN_REVIEW and not Approval.objects.exists()
    approve_seen(actor=approver2, request=held)
    held.refresh_from_db()
    assert held.status == Status.PRODUCED


def test_the_person_who_took_the_callback_cannot_approve_the_release(held, reviewer, approver):
    review.emergency_callback_record(actor=approver, request=held, outcome="confirmed")
    held.refresh_from_db()
    delivery.response_prepare(actor=reviewer, request=held, files=[upload()])
    with pytest.raises(ServiceError):
        approve_seen(actor=approver, request=held)
    held.refresh_from_db()
    assert held.status == Status.IN_REVIEW


def test_an_emergency_preservation_is_held_like_a_disclosure(submit):
    request = submit(instrument="epoc_pr", emergency=True, emergency_reason="Threat to life", validation=None)
    assert request.status == Status.VERIFICATION_HOLD
