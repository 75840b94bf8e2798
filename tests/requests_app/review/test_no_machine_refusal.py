"""No machine-final refusal (domain.md §13.12, DESIGN.md §8): the validation task brings a
request into review, verification or clarification, never to ``not_executed``, ``refused``
or ``rerouted``; the one guarded ``transition()`` refuses those states to every automatic
actor, whatever the caller; the engine only proposes (a drafted Annex III)."""

from __future__ import annotations

import pytest

from outbox.models import OutboxMessage
from requests_app.models import AnnexIII
from requests_app.rules import evaluate
from requests_app.states import Lifecycle, Status
from requests_app.workflow import TRANSITIONS, TransitionGuardFailed, TransitionNotAllowed, lock_request, transition

from .conftest import last_seq, transitions

pytestmark = pytest.mark.django_db

FINAL = {Status.NOT_EXECUTED, Status.REFUSED, Status.REROUTED}
DSA_NO_LOCATOR = {"legal_basis": "Art. 9 DSA; Loi 2004-575", "statement_of_reasons": "Hate speech.",
                  "redress_information": "Tribunal administratif", "territorial_scope": "FR", "content_urls": []}

# Requests the engine would refuse or reroute, on each route (e-Evidence, US, DSA).
PROPOSED = {
    # Art. 4(2): a prosecutor cannot validate an EPOC for traffic data.
    "eevidence_not_executable": ({"data_categories": ["traffic"]}, "not_executable"),
    # 18 U.S.C. § 2711(4): US process comes from US bodies; the French police goes elsewhere.
    "us_rerouted": ({"instrument": "us_search_warrant", "data_categories": ["content"], "validation": None,
                     "language": "en"}, "rerouted"),
    # DSA Art. 9(2): an order that locates no content cannot be given effect.
    "dsa_not_executable": ({"instrument": "dsa_removal_order", "data_categories": [], "targets": [],
                            "validation": None, "dsa": DSA_NO_LOCATOR}, "not_executable"),
}


@pytest.mark.parametrize("case", PROPOSED)
def test_validation_never_refuses_it_brings_the_request_to_review_with_a_proposal(submit, case):
    overrides, route = PROPOSED[case]
    request = submit(**overrides)
    assert request.decision["route"] == route, request.decision["findings"]
    assert request.status == Status.IN_REVIEW
    assert request.resolution == ""
    assert transitions(request) == [(Status.RECEIVED, Status.VALIDATING), (Status.VALIDATING, Status.IN_REVIEW)]
    # Nothing was sent to the authority as a decision, and no Annex III exists yet.
    assert not OutboxMessage.objects.filter(request=request, topic="notify.decision").exists()
    assert not AnnexIII.objects.filter(request=request).exists()
    # The engine's proposal is stored for the person who decides.
    proposal = request.decision["proposal"]
    assert proposal["recommendation"] in {"not_executed", "rerouted"}
    assert proposal["items"], proposal


@pytest.mark.parametrize("lifecycle", list(TRANSITIONS))
def test_no_lifecycle_lets_validation_enter_a_final_state(lifecycle):
    assert not (TRANSITIONS[lifecycle][Status.VALIDATING] & FINAL)


@pytest.mark.parametrize("target", sorted(FINAL))
def test_the_guard_refuses_final_states_to_automatic_actors(submit, officer, reviewer, target):
    request = submit()
    assert request.status == Status.IN_REVIEW
    seq = last_seq()
    for actor in (None, officer):  # a task, a timer, a shell; an authority's officer
        with pytest.raises(TransitionGuardFailed) as refused:
            transition(lock_request(request), target, actor=actor, reason="automatic")
        assert "legal team" in refused.value.reason
        request.refresh_from_db()
        assert request.status == Status.IN_REVIEW and last_seq() == seq
    moved = transition(lock_request(request), target, actor=reviewer, reason="decided by a person")
    assert moved.status == target


def test_validating_cannot_move_to_a_final_state_even_for_a_person(submit, reviewer):
    request = submit(validate=False)
    transition(lock_request(request), Status.VALIDATING, reason="claimed")
    for target in FINAL:
        with pytest.raises(TransitionNotAllowed):
            transition(lock_request(request), target, actor=reviewer)


@pytest.mark.parametrize("lifecycle", [Lifecycle.PRODUCTION, Lifecycle.US_PROCESS, Lifecycle.DSA])
def test_engine_target_status_is_never_final(lifecycle):
    from tests.rules.builders import facts

    cases = {
        Lifecycle.PRODUCTION: facts(issuer=("other_competent", "DK")),
        Lifecycle.US_PROCESS: facts("us_search_warrant", ("judge", "GB"), ("content",)),
        Lifecycle.DSA: facts("dsa_removal_order", ("administrative", "FR"), (), targets=()),
    }
    decision = evaluate(cases[lifecycle])
    assert decision.route in {"not_executable", "rerouted"}
    assert decision.target_status == Status.IN_REVIEW
