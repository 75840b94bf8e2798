"""The validation task stores the rules' decision, sets the state and the timers, and writes
exactly one audit event per change."""

import pytest

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.api.serializers import RequestCreateSerializer
from requests_app.models import LegalRequest, Timer
from requests_app.services.submission import request_submit
from requests_app.services.validation import request_validate
from tests.conftest import epoc_body

pytestmark = pytest.mark.django_db


def submit(actor, **overrides) -> LegalRequest:
    serializer = RequestCreateSerializer(data=epoc_body(**overrides))
    serializer.is_valid(raise_exception=True)
    request, _ = request_submit(actor=actor, data=serializer.validated_data)
    return request


def validate(request: LegalRequest) -> LegalRequest:
    request_validate(request_id=request.pk)
    request.refresh_from_db()
    return request


def test_an_acceptable_order_goes_to_review_with_its_decision_and_deadlines(officer):
    request = validate(submit(officer))
    assert request.status == "in_review"
    assert request.decision["route"] == "accepted"
    assert request.decision["rulebook_version"]
    assert request.decision["config_fingerprint"]
    # Art. 10(3): 10 days from receipt for our own duty, warn before breach before due.
    assert request.due_at is not None and request.warn_at < request.breach_at < request.due_at
    assert (request.due_at - request.received_at).days == 10
    kinds = set(Timer.objects.filter(request=request).values_list("kind", flat=True))
    assert {"production_due", "deadline_warn", "deadline_breach", "deadline_due"} <= kinds
    actions = list(AuditEvent.objects.filter(request_id=request.pk).values_list("action", flat=True))
    assert actions == ["request.submitted", "request.status_changed", "request.validated", "request.status_changed"]
    moves = [e.data for e in AuditEvent.objects.filter(request_id=request.pk, action="request.status_changed")]
    assert [(m["from"], m["to"]) for m in moves] == [("received", "validating"), ("validating", "in_review")]
    assert OutboxMessage.objects.filter(request=request, topic="notify.new_request").count() == 1


@pytest.mark.parametrize(
    "overrides,status,route",
    [
        # Art. 4(2): a prosecutor's validation does not suffice for traffic data; the engine
        # proposes the refusal, a person decides it (review).
        ({"data_categories": ["traffic"]}, "in_review", "not_executable"),
        # Annex I E: an IP address without its time stamp identifies nobody.
        ({"targets": [{"kind": "ip_address", "value": "198.51.100.4"}]}, "clarification_requested",
         "clarification_required"),
        # Art. 11: a preservation order is preserved at once.
        ({"instrument": "epoc_pr", "data_categories": ["subscriber", "content"]}, "preserving", "accepted"),
        # Provider policy: an emergency disclosure waits for the call-back.
        ({"instrument": "emergency_disclosure", "emergency": True,
          "emergency_reason": "Imminent threat to the life of a hostage."}, "verification_hold", "accepted"),
    ],
)
def test_each_route_reaches_its_state(officer, overrides, status, route):
    request = validate(submit(officer, **overrides))
    assert (request.status, request.decision["route"]) == (status, route)
    assert AuditEvent.objects.filter(request_id=request.pk, action="request.validated").count() == 1


def test_traffic_data_from_a_judge_with_the_enforcing_authority_notified_waits_ten_days(make_authority):
    from accounts.services import officer_create

    court = make_authority(name="Tribunal judiciaire", authority_type="investigating_judge",
                           domains=["justice.fr"])
    judge = officer_create(language="en", authority=court, email="juge@justice.fr")
    request = validate(submit(judge, data_categories=["traffic"], validation=None,
                              enforcing_authority_notified=True))
    assert request.status == "awaiting_enforcing_authority"
    assert request.hold_until is not None
    assert (request.hold_until - request.received_at).days >= 10
    assert Timer.objects.filter(request=request, kind="ea_window_end").exists()


def test_danish_orders_are_rerouted(make_authority):
    from accounts.services import officer_create

    danish = make_authority(name="Rigspolitiet", country="DK", domains=["politi.dk"])
    officer = officer_create(language="en", authority=danish, email="efterforsker@politi.dk")
    request = validate(submit(officer))
    assert request.status == "in_review"  # a person decides the reroute
    assert request.decision["route"] == "rerouted"
    assert any(f["code"] == "EE_MS_NOT_BOUND" for f in request.decision["findings"])


def test_a_second_delivery_changes_nothing(officer):
    request = validate(submit(officer))
    events = AuditEvent.objects.count()
    assert request_validate(request_id=request.pk) is None
    assert AuditEvent.objects.count() == events
