"""Each lifecycle end to end through the services (DESIGN.md §4.1-4.2, domain.md §7, §12).

Every step is checked after a reload: the state, exactly the audit events it wrote and the
outbox rows it queued.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
import time_machine
from django.utils import timezone

from accounts.services import officer_create
from audit.models import AuditEvent
from requests_app.models import Approval, ResponsePackage, Timer
from requests_app.services import delivery, review
from requests_app.services.errors import InvalidState
from requests_app.states import Lifecycle, Status
from requests_app.timers import fire_due
from tests.conftest import approve_seen, client_for
from tests.four_eyes import approve_annex

from .conftest import PAYLOAD, PAYLOAD_SHA256, actions, last_seq, open_timers, topics, transitions, upload

pytestmark = pytest.mark.django_db

API = "/api/v1/requests/"


def judge_validation() -> dict:
    return {"authority_type": "judge", "authority_name": "Tribunal judiciaire de Paris", "reference": "JLD-1",
            "date": (timezone.now() - timedelta(days=2)).date().isoformat()}


def produce(request, preparer, approver):
    """Prepare (first person) and approve (second person); approval releases at once."""
    package = delivery.response_prepare(actor=preparer, request=request, files=[upload()], cover_note="Data.")
    approve_seen(actor=approver, request=request, note="Checked.")
    request.refresh_from_db()
    package.refresh_from_db()
    return package


def assert_days(delta: timedelta, days: int) -> None:
    """Our own duty (production within N days): never later than N x 24 h, and not much sooner."""
    assert timedelta(days=days - 1) <= delta <= timedelta(days=days), delta


def assert_waiting_period(start: datetime, end: datetime, days: int, issuer: str = "FR") -> None:
    """Where we wait on an authority (domain.md §13.2): never before the end of the N-th day in
    Brussels (our establishment), counted in local days from the local receipt date and rolled
    over weekends and the Belgian and issuing state's public holidays (Reg. 1182/71 Art. 3(4));
    and no later than a few days of slack beyond it (the issuer's later zones, its holidays)."""
    brussels = ZoneInfo("Europe/Brussels")
    assert end >= start + timedelta(days=days), (start, end)
    last_day = start.astimezone(brussels).date() + timedelta(days=days)
    years = [last_day.year, last_day.year + 1]
    closed = holidays.country_holidays("BE", years=years) | holidays.country_holidays(issuer, years=years)
    while last_day.weekday() >= 5 or last_day in closed:
        last_day += timedelta(days=1)
    local_end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=brussels)
    assert end >= local_end, (start, end, last_day)
    assert end <= local_end + timedelta(days=4), (start, end, last_day)


# --- Production (EPOC, Reg. (EU) 2023/1543 Art. 10) ------------------------------------------


def test_production_from_submission_to_download_and_close(submit, officer, officer_api, reviewer, approver):
    request = submit()
    assert request.lifecycle == Lifecycle.PRODUCTION and request.status == Status.IN_REVIEW
    assert transitions(request) == [("received", "validating"), ("validating", "in_review")]
    assert actions(request) == ["request.submitted", "request.status_changed", "request.validated",
                                "request.status_changed"]
    assert topics(request) == ["notify.new_request"]  # its validation was a queue entry (validation_queue)
    assert_days(request.due_at - request.received_at, 10)

    seq = last_seq()
    package = delivery.response_prepare(actor=reviewer, request=request, files=[upload()], cover_note="Data.")
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
    assert actions(request, seq) == ["response.prepared"]
    assert topics(request)[-1] == "notify.approval_needed"

    seq = last_seq()
    approval = approve_seen(actor=approver, request=request, note="Checked.")
    request.refresh_from_db()
    package.refresh_from_db()
    assert request.status == Status.PRODUCED and request.resolution == "produced"
    assert (approval.prepared_by, approval.approved_by) == (reviewer, approver)
    assert package.approval == approval and package.released_at is not None
    assert package.available_until is not None
    assert actions(request, seq) == ["response.approved", "request.status_changed", "request.status_changed",
                                     "response.released"]
    assert transitions(request, seq) == [("in_review", "approved"), ("approved", "produced")]
    assert topics(request)[-1] == "notify.response_ready"
    assert "response_purge" in open_timers(request)

    listing = officer_api.get(f"{API}{request.reference}/response/")
    assert listing.status_code == 200, listing.content
    (entry,) = listing.json()["files"]
    assert entry["sha256"] == PAYLOAD_SHA256
    seq = last_seq()
    download = officer_api.get(entry["download_url"])
    assert download.status_code == 200
    assert download.content == PAYLOAD
    assert hashlib.sha256(download.content).hexdigest() == entry["sha256"]
    event = AuditEvent.objects.get(request_id=request.pk, seq__gt=seq, action="response.downloaded")
    assert event.actor_id == officer.pk and event.data["sha256"] == PAYLOAD_SHA256

    seq = last_seq()
    review.request_close(actor=reviewer, request=request, reason="done")
    request.refresh_from_db()
    assert request.status == Status.CLOSED
    assert actions(request, seq) == ["request.status_changed"]
    assert "response_purge" in open_timers(request), "closing keeps the retention purge"


@pytest.fixture
def awaiting_ea(submit):
    """Traffic data, enforcing authority notified: Art. 10(2) suspensive window."""
    request = submit(data_categories=["traffic"], enforcing_authority_notified=True, validation=judge_validation())
    assert request.status == Status.AWAITING_ENFORCING_AUTHORITY, request.decision["findings"]
    return request


def test_traffic_with_enforcing_authority_notified_waits_ten_days(awaiting_ea):
    assert_waiting_period(awaiting_ea.received_at, awaiting_ea.hold_until, 10)
    timers = open_timers(awaiting_ea)
    assert timers["ea_window_end"] == awaiting_ea.hold_until
    assert awaiting_ea.due_at >= awaiting_ea.hold_until


def test_no_approval_while_the_enforcing_authority_window_runs(awaiting_ea, reviewer, approver):
    delivery.response_prepare(actor=reviewer, request=awaiting_ea, files=[upload()])
    seq = last_seq()
    with pytest.raises(InvalidState):
        approve_seen(actor=approver, request=awaiting_ea)
    awaiting_ea.refresh_from_db()
    assert awaiting_ea.status == Status.AWAITING_ENFORCING_AUTHORITY
    assert not Approval.objects.exists() and actions(awaiting_ea, seq) == []


def test_enforcing_authority_confirms_early_then_production(awaiting_ea, reviewer, approver):
    seq = last_seq()
    review.ea_confirm(actor=reviewer, request=awaiting_ea, note="EA: no ground")
    awaiting_ea.refresh_from_db()
    assert awaiting_ea.status == Status.IN_REVIEW and awaiting_ea.hold_until is None
    assert actions(awaiting_ea, seq) == ["request.status_changed"]
    assert "ea_window_end" not in open_timers(awaiting_ea)
    produce(awaiting_ea, reviewer, approver)
    assert awaiting_ea.status == Status.PRODUCED


def test_enforcing_authority_objects_refuses_and_nothing_can_be_released(awaiting_ea, reviewer, approver):
    delivery.response_prepare(actor=reviewer, request=awaiting_ea, files=[upload()])
    seq = last_seq()
    form = review.ea_object(actor=reviewer, request=awaiting_ea, grounds="Art. 12(1)(a) immunity")
    awaiting_ea.refresh_from_db()
    # One person records the ground and signs the refusal; nothing is final before a second person.
    assert awaiting_ea.status == Status.AWAITING_ENFORCING_AUTHORITY
    assert actions(awaiting_ea, seq) == ["annex_iii.drafted", "enforcing_authority.objected"]
    assert "ea_window_end" not in open_timers(awaiting_ea), "the window no longer ends by itself"
    with pytest.raises(InvalidState):
        approve_seen(actor=approver, request=awaiting_ea)
    approve_annex(approver, form)
    awaiting_ea.refresh_from_db()
    assert awaiting_ea.status == Status.REFUSED
    assert awaiting_ea.resolution == "refused_by_enforcing_authority"
    assert "notify.decision" in topics(awaiting_ea)
    assert open_timers(awaiting_ea) == {}

    seq = last_seq()
    with pytest.raises(InvalidState):
        approve_seen(actor=approver, request=awaiting_ea)
    with pytest.raises(InvalidState):
        delivery.response_release(actor=approver, request=awaiting_ea)
    with pytest.raises(InvalidState):
        delivery.response_prepare(actor=reviewer, request=awaiting_ea, files=[upload()])
    awaiting_ea.refresh_from_db()
    assert awaiting_ea.status == Status.REFUSED
    assert not Approval.objects.exists()
    assert not ResponsePackage.objects.filter(released_at__isnull=False).exists()
    assert actions(awaiting_ea, seq) == []


def test_enforcing_authority_window_ends_by_timer(awaiting_ea, reviewer, approver):
    with time_machine.travel(awaiting_ea.hold_until - timedelta(minutes=1), tick=False):
        fire_due()
    awaiting_ea.refresh_from_db()
    assert awaiting_ea.status == Status.AWAITING_ENFORCING_AUTHORITY

    with time_machine.travel(awaiting_ea.hold_until + timedelta(minutes=1), tick=False):
        seq = last_seq()
        fire_due()
        awaiting_ea.refresh_from_db()
        assert awaiting_ea.status == Status.IN_REVIEW
        assert ("awaiting_enforcing_authority", "in_review") in transitions(awaiting_ea, seq)
        assert fire_due() == 0
        produce(awaiting_ea, reviewer, approver)
        assert awaiting_ea.status == Status.PRODUCED


# --- Preservation (EPOC-PR, Art. 11) ---------------------------------------------------------


@pytest.fixture
def preserving(submit):
    request = submit(instrument="epoc_pr")
    assert request.lifecycle == Lifecycle.PRESERVATION and request.status == Status.PRESERVING
    return request


def expiry(request):
    return Timer.objects.get(request=request, kind="preservation_expiry", fired_at__isnull=True,
                             cancelled_at__isnull=True).due_at


def test_preservation_has_an_expiry_timer_at_sixty_days(preserving):
    assert_waiting_period(preserving.received_at, expiry(preserving), 60)
    assert preserving.due_at == expiry(preserving)
    assert transitions(preserving) == [("received", "validating"), ("validating", "preserving")]


def test_annex_vi_within_sixty_days_moves_expiry_to_ninety(submit, preserving):
    first = expiry(preserving)
    with time_machine.travel(preserving.received_at + timedelta(days=30), tick=False):
        extension = submit(instrument="preservation_extension", linked_reference=preserving.reference)
    assert extension.status == Status.CLOSED and extension.resolution == "preservation_extended"
    preserving.refresh_from_db()
    assert preserving.status == Status.PRESERVING
    new = expiry(preserving)
    assert_waiting_period(preserving.received_at, new, 90)
    assert preserving.due_at == new
    assert Timer.objects.get(request=preserving, kind="preservation_expiry", due_at=first).cancelled_at
    assert "preservation.preservation_extended" in actions(preserving)


def test_annex_vi_moves_the_deadline_levels_with_the_expiry(submit, preserving):
    submit(instrument="preservation_extension", linked_reference=preserving.reference)
    preserving.refresh_from_db()
    new = expiry(preserving)
    assert preserving.hold_until == new
    assert open_timers(preserving)["deadline_due"] == new
    assert preserving.warn_at > preserving.received_at + timedelta(days=60)


def test_a_second_annex_vi_is_refused(submit, preserving):
    submit(instrument="preservation_extension", linked_reference=preserving.reference)
    preserving.refresh_from_db()
    extended = expiry(preserving)
    seq = last_seq()
    second = submit(instrument="preservation_extension", linked_reference=preserving.reference)
    # The engine proposes the non-execution; a person of the legal team decides it.
    assert second.status == Status.IN_REVIEW and second.decision["route"] == "not_executable"
    assert "EE_EXTENSION_ALREADY_USED" in {f["code"] for f in second.decision["findings"]}
    preserving.refresh_from_db()
    assert expiry(preserving) == extended and preserving.status == Status.PRESERVING
    assert actions(preserving, seq) == []


def test_annex_v_cancels_the_expiry_and_holds_until_production(submit, preserving):
    confirmation = submit(instrument="production_confirmation", linked_reference=preserving.reference)
    assert confirmation.status == Status.CLOSED and confirmation.resolution == "held_until_production"
    preserving.refresh_from_db()
    assert preserving.status == Status.PRESERVING and preserving.due_at is None
    assert "preservation_expiry" not in open_timers(preserving)
    with time_machine.travel(preserving.received_at + timedelta(days=120), tick=False):
        fire_due()
    preserving.refresh_from_db()
    assert preserving.status == Status.PRESERVING


def test_preservation_expires_without_extension(preserving):
    with time_machine.travel(expiry(preserving) - timedelta(minutes=1), tick=False):
        fire_due()
    preserving.refresh_from_db()
    assert preserving.status == Status.PRESERVING
    with time_machine.travel(expiry(preserving) + timedelta(minutes=1), tick=False):
        seq = last_seq()
        fire_due()
        assert fire_due() == 0
    preserving.refresh_from_db()
    assert preserving.status == Status.RELEASED and preserving.resolution == "preservation_expired"
    assert transitions(preserving, seq) == [("preserving", "released")]
    assert topics(preserving).count("notify.decision") == 1


def test_the_authority_releases_a_preservation_early(preserving, reviewer):
    seq = last_seq()
    review.preservation_release(actor=reviewer, request=preserving, reason="no longer necessary")
    preserving.refresh_from_db()
    assert preserving.status == Status.RELEASED and preserving.resolution == "preservation_released"
    assert actions(preserving, seq) == ["request.status_changed"]
    assert open_timers(preserving) == {}


# --- DSA, US process, voluntary emergency disclosure -----------------------------------------


def test_dsa_information_order(submit, reviewer, approver):
    request = submit(instrument="dsa_information_order", dsa={
        "legal_basis": "Art. 10 DSA; Loi 2004-575", "statement_of_reasons": "Identify the seller.",
        "redress_information": "Tribunal administratif", "territorial_scope": "FR", "content_urls": []})
    assert request.lifecycle == Lifecycle.DSA and request.status == Status.IN_REVIEW, request.decision
    assert request.due_at is not None
    produce(request, reviewer, approver)
    assert request.status == Status.PRODUCED
    review.request_close(actor=reviewer, request=request)
    request.refresh_from_db()
    assert request.status == Status.CLOSED


@pytest.mark.parametrize("authority_type", ["court", "administrative"])
def test_us_subpoena_for_subscriber_data(submit, make_authority, reviewer, approver, authority_type, settings):
    # A provider the SCA binds (PROVIDER_US_SCA_APPLIES; off by default, docs/law.md).
    settings.PROVIDER_RULES = {**settings.PROVIDER_RULES, "US_SCA_APPLIES": True}
    us = make_authority(name="US agency", country="US", authority_type=authority_type, domains=["agency.example.gov"],
                        switchboard_phone="+12025550100")
    clerk = officer_create(language="en", authority=us, email="clerk@agency.example.gov")
    request = submit(clerk, instrument="us_subpoena", validation=None, language="en")
    assert request.lifecycle == Lifecycle.US_PROCESS and request.status == Status.IN_REVIEW, request.decision
    assert request.decision["route"] == "accepted"
    package = produce(request, reviewer, approver)
    assert request.status == Status.PRODUCED
    body = client_for(clerk).get(f"{API}{request.reference}/response/").json()
    assert [f["id"] for f in body["files"]] == list(package.files.values_list("pk", flat=True))


def test_voluntary_emergency_disclosure(submit, reviewer, approver):
    request = submit(validate=False, instrument="emergency_disclosure", emergency=True,
                     emergency_reason="Imminent threat to life.")
    assert topics(request) == ["alert.emergency"], "the on-call lawyer hears at once"
    from requests_app.services.validation import request_validate

    request_validate(request_id=request.pk)
    request.refresh_from_db()
    assert request.lifecycle == Lifecycle.EMERGENCY and request.status == Status.VERIFICATION_HOLD
    with pytest.raises(InvalidState):
        delivery.response_prepare(actor=reviewer, request=request, files=[upload()])

    review.emergency_callback_record(actor=reviewer, request=request, outcome="confirmed", person_reached="Duty")
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW
    produce(request, reviewer, approver)
    assert request.status == Status.PRODUCED
