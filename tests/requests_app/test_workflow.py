"""The guarded transition(): every lifecycle x every state x every target, walked systematically.

An allowed move changes the state (seen after a reload) and writes exactly one
``request.status_changed`` event naming ``from`` and ``to``; a refused move raises
``TransitionNotAllowed``, leaves the state alone and writes nothing.
"""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from requests_app.models import LegalRequest
from requests_app.services.errors import InvalidState
from requests_app.services.submission import request_submit, request_withdraw
from requests_app.states import TERMINAL_STATES, Lifecycle, Status
from requests_app.workflow import (
    TRANSITIONS,
    TransitionGuardFailed,
    TransitionNotAllowed,
    allowed_targets,
    lock_request,
    transition,
)
from tests.conftest import epoc_body

pytestmark = pytest.mark.django_db

ALL_STATES = list(Status.values)
OPEN_STATES = [s for s in ALL_STATES if s not in TERMINAL_STATES]
# Once data have been produced the authority can no longer withdraw (workflow._table).
WITHDRAWABLE = [s for s in OPEN_STATES if s != Status.PRODUCED]
LIFECYCLE_STATES = [(lc, s) for lc in Lifecycle.values for s in ALL_STATES]


def submitted(officer) -> LegalRequest:
    from requests_app.api.serializers import RequestCreateSerializer

    serializer = RequestCreateSerializer(data=epoc_body())
    serializer.is_valid(raise_exception=True)
    return request_submit(actor=officer, data=serializer.validated_data)[0]


def put_in(request: LegalRequest, lifecycle: str, status: str) -> LegalRequest:
    """Test set-up only: place the row in a given state without going through transition()."""
    LegalRequest.objects.filter(pk=request.pk).update(lifecycle=lifecycle, status=status, resolution="")
    request.refresh_from_db()
    return request


def status_events(request: LegalRequest) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(request_id=request.pk, action="request.status_changed").order_by("seq"))


def test_every_lifecycle_has_a_table_and_only_known_states():
    assert set(TRANSITIONS) == set(Lifecycle.values)
    for table in TRANSITIONS.values():
        for state, targets in table.items():
            assert state in ALL_STATES
            assert targets <= set(ALL_STATES)


@pytest.mark.parametrize("lifecycle,state", LIFECYCLE_STATES)
def test_allowed_moves_change_state_and_write_one_event(officer, lifecycle, state):
    """Each move of the table goes through, unless a guard (four eyes, call-back) refuses it cleanly."""
    request = submitted(officer)
    moved = 0
    for target in sorted(allowed_targets(lifecycle, state)):
        put_in(request, lifecycle, state)
        before = len(status_events(request))
        try:
            returned = transition(lock_request(request), target, actor=officer, reason="test move")
        except TransitionGuardFailed as refused:
            assert (refused.current, refused.target) == (state, target) and refused.reason
            request.refresh_from_db()
            assert request.status == state and len(status_events(request)) == before
            continue
        moved += 1
        request.refresh_from_db()
        assert request.status == target == returned.status
        events = status_events(request)
        assert len(events) == before + 1, f"{lifecycle}: {state} -> {target}"
        event = events[-1]
        assert (event.data["from"], event.data["to"]) == (state, target)
        assert event.data["reason"] == "test move"
        assert event.actor_id == officer.pk and event.authority_id == request.authority_id
        if target in TERMINAL_STATES:
            assert request.resolution == target
    if state in WITHDRAWABLE:
        assert moved, "at least the withdrawal must go through"


@pytest.mark.parametrize("lifecycle,state", LIFECYCLE_STATES)
def test_forbidden_moves_raise_write_nothing_and_keep_the_state(officer, lifecycle, state):
    request = put_in(submitted(officer), lifecycle, state)
    events_before = AuditEvent.objects.count()
    forbidden = [t for t in ALL_STATES if t not in allowed_targets(lifecycle, state)] + ["bogus"]
    for target in forbidden:
        with pytest.raises(TransitionNotAllowed) as info:
            transition(lock_request(request), target, actor=officer)
        assert (info.value.current, info.value.target) == (state, target)
        request.refresh_from_db()
        assert request.status == state, f"{lifecycle}: {state} -> {target} changed the state"
    assert AuditEvent.objects.count() == events_before


def reachable(lifecycle: str) -> set[str]:
    seen, todo = {Status.RECEIVED.value}, [Status.RECEIVED.value]
    while todo:
        for target in allowed_targets(lifecycle, todo.pop()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


@pytest.mark.parametrize("lifecycle", Lifecycle.values)
def test_every_reachable_open_state_has_a_way_out_and_every_request_can_end(lifecycle):
    states = reachable(lifecycle)
    assert Status.WITHDRAWN in states and Status.IN_REVIEW in states
    dead_ends = [s for s in states if s not in TERMINAL_STATES and not allowed_targets(lifecycle, s)]
    assert dead_ends == []
    for state in states - TERMINAL_STATES:  # from anywhere, some terminal state can still be reached
        seen, todo = {state}, [state]
        while todo:
            for target in allowed_targets(lifecycle, todo.pop()):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        assert seen & TERMINAL_STATES, f"{lifecycle}: nothing ends after {state}"


def test_transition_refuses_a_row_that_is_not_locked(officer):
    """transition() does not lock: it refuses an instance the caller did not lock (nothing moves)."""
    request = put_in(submitted(officer), Lifecycle.PRODUCTION, Status.VALIDATING)
    with pytest.raises(RuntimeError):
        transition(request, Status.IN_REVIEW)
    request.refresh_from_db()
    assert request.status == Status.VALIDATING


def test_transition_reads_the_locked_row_not_the_stale_copy(officer):
    """A caller holding an old copy cannot move a request from a state it has already left:
    the lock reads the row afresh."""
    request = put_in(submitted(officer), Lifecycle.PRODUCTION, Status.VALIDATING)
    stale = LegalRequest.objects.get(pk=request.pk)
    transition(lock_request(request), Status.IN_REVIEW)
    assert stale.status == Status.VALIDATING
    with pytest.raises(TransitionNotAllowed):
        transition(lock_request(stale), Status.AWAITING_ENFORCING_AUTHORITY)  # allowed from validating, not in_review
    stale.refresh_from_db()
    assert stale.status == Status.IN_REVIEW


def _terminal_params():
    """Every lifecycle x terminal state; the ones the table leaves open are known bugs (xfail, strict)."""
    params = []
    for lifecycle in Lifecycle.values:
        for state in sorted(TERMINAL_STATES):
            exits = ", ".join(sorted(allowed_targets(lifecycle, state)))
            marks = [pytest.mark.xfail(strict=True, reason=(
                f"BUG: requests_app/workflow.py lets terminal state {state} move to [{exits}] in {lifecycle} "
                "(_DISCLOSURE: produced -> closed), but states.py TERMINAL_STATES says nothing more happens"
            ))] if exits else []
            params.append(pytest.param(lifecycle, state, marks=marks, id=f"{lifecycle}-{state}"))
    return params


@pytest.mark.parametrize("lifecycle,state", _terminal_params())
def test_terminal_states_allow_nothing(officer, lifecycle, state):
    assert allowed_targets(lifecycle, state) == frozenset()
    request = put_in(submitted(officer), lifecycle, state)
    events_before = AuditEvent.objects.count()
    for target in ALL_STATES:
        with pytest.raises((TransitionNotAllowed, TransitionGuardFailed)):
            transition(lock_request(request), target)
    request.refresh_from_db()
    assert request.status == state
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize("lifecycle", Lifecycle.values)
@pytest.mark.parametrize("state", WITHDRAWABLE)
def test_withdraw_from_every_open_state(officer, lifecycle, state):
    request = put_in(submitted(officer), lifecycle, state)
    request_withdraw(actor=officer, request=request, reason="no longer needed")
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN
    assert request.resolution == "withdrawn_by_authority"
    [event] = status_events(request)
    assert event.data == {"from": state, "to": Status.WITHDRAWN, "reason": "no longer needed"}


@pytest.mark.parametrize("state", sorted(TERMINAL_STATES | {Status.PRODUCED}))
def test_withdraw_from_a_terminal_state_is_refused(officer, state):
    request = put_in(submitted(officer), Lifecycle.PRODUCTION, state)
    with pytest.raises(InvalidState):
        request_withdraw(actor=officer, request=request)
    request.refresh_from_db()
    assert request.status == state
    assert status_events(request) == []


def test_a_failing_audit_write_rolls_the_move_back(officer, reviewer, monkeypatch):
    """Fail closed (security.md H5): no state change without its audit event."""
    from audit import trail as audit

    request = put_in(submitted(officer), Lifecycle.PRODUCTION, Status.IN_REVIEW)

    def broken(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        transition(lock_request(request), Status.REFUSED, actor=reviewer)
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
