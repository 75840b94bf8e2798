"""One way, through the real services, to make each event of ``notifications.EVENTS`` happen.

Each scenario first flushes what came before (earlier events are delivered and the inbox
emptied), then performs the operation that enqueues its event, and returns the request and the
addresses that must hear of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from requests_app.models import LegalRequest
from requests_app.services import delivery, review
from requests_app.services.submission import request_withdraw
from requests_app.states import Status
from requests_app.timers import fire_due
from tests.conftest import approve_seen
from tests.four_eyes import approve_annex

from .conftest import ON_CALL, PERSONAL, SmtpSink, Team, deliver, upload


@dataclass
class World:
    officer: Any
    team: Team
    submit: Callable[..., LegalRequest]
    smtp: SmtpSink

    def flush(self) -> None:
        deliver()
        self.smtp.clear()

    def in_review(self, *, assigned: bool = False) -> LegalRequest:
        request = self.submit()
        assert request.status == Status.IN_REVIEW, request.decision
        review.note_add(actor=self.team.reviewer, request=request, body=PERSONAL["note"])
        if assigned:
            review.review_assign(actor=self.team.reviewer, request=request, reviewer=self.team.reviewer2)
        request.refresh_from_db()
        self.flush()
        return request

    def held_emergency(self) -> LegalRequest:
        request = self.submit(emergency=True, validation=None, emergency_reason=PERSONAL["emergency_reason"])
        assert request.status == Status.VERIFICATION_HOLD, request.decision
        return request


Outcome = tuple[LegalRequest, set[str]]


def new_request(w: World) -> Outcome:
    return w.submit(), {w.officer.email} | w.team.everyone


def clarification_requested(w: World) -> Outcome:
    request = w.in_review()
    review.clarification_request(actor=w.team.reviewer, request=request, clarification_asked=PERSONAL["message"],
                                 reasons=[{"identifier": PERSONAL["phone"], "reasons": ["incomplete"],
                                           "explanation": PERSONAL["reason"]}])
    return request, {w.officer.email}


def decision(w: World) -> Outcome:
    request = w.in_review(assigned=True)
    form = review.request_refuse(actor=w.team.reviewer, request=request, reason=PERSONAL["reason"])
    w.flush()  # the approvers' notice of the draft
    approve_annex(w.team.approver, form)
    return request, {w.officer.email, w.team.reviewer2.email}


def response_ready(w: World) -> Outcome:
    request = w.in_review()
    delivery.response_prepare(actor=w.team.reviewer, request=request, files=[upload()], cover_note=PERSONAL["cover"])
    w.flush()
    approve_seen(actor=w.team.approver, request=request, note=PERSONAL["note"])
    return request, {w.officer.email}


def withdrawn(w: World) -> Outcome:
    request = w.in_review(assigned=True)
    request_withdraw(actor=w.officer, request=request, reason=PERSONAL["reason"])
    return request, {w.officer.email, w.team.reviewer2.email}


def message_to_authority(w: World) -> Outcome:
    request = w.in_review()
    review.message_to_authority(actor=w.team.reviewer, request=request, body=PERSONAL["message"])
    return request, {w.officer.email}


def message_from_authority(w: World) -> Outcome:
    request = w.in_review(assigned=True)
    review.message_from_authority(actor=w.officer, request=request, body=PERSONAL["message"])
    return request, {w.team.reviewer2.email}


def message_from_authority_unassigned(w: World) -> Outcome:
    request = w.in_review()
    review.message_from_authority(actor=w.officer, request=request, body=PERSONAL["message"])
    return request, w.team.everyone


def assigned(w: World) -> Outcome:
    request = w.in_review()
    review.review_assign(actor=w.team.reviewer, request=request, reviewer=w.team.reviewer2)
    return request, {w.team.reviewer2.email}


def approval_needed(w: World) -> Outcome:
    request = w.in_review()
    delivery.response_prepare(actor=w.team.reviewer, request=request, files=[upload()], cover_note=PERSONAL["cover"])
    return request, w.team.approvers


def annex_iii_approval_needed(w: World) -> Outcome:
    request = w.in_review()
    review.request_refuse(actor=w.team.reviewer, request=request, reason=PERSONAL["reason"])
    return request, w.team.approvers


def emergency(w: World) -> Outcome:
    return w.held_emergency(), set(ON_CALL) | w.team.everyone


def suspected_fraud(w: World) -> Outcome:
    request = w.held_emergency()
    w.flush()
    review.emergency_callback_record(actor=w.team.reviewer, request=request, outcome="not_confirmed",
                                     person_reached=PERSONAL["person_reached"], notes=PERSONAL["note"])
    return request, w.team.admins | set(ON_CALL)


def callback_confirmed(w: World) -> Outcome:
    request = w.held_emergency()
    w.flush()
    review.emergency_callback_record(actor=w.team.reviewer, request=request, outcome="confirmed",
                                     person_reached=PERSONAL["person_reached"], notes=PERSONAL["note"])
    assert request.submitted_by is not None
    return request, (set(ON_CALL) | w.team.everyone | {request.submitted_by.email}) - {w.team.reviewer.email}


def four_eyes_refused(w: World) -> Outcome:
    request = w.in_review()
    review.request_refuse(actor=w.team.approver, request=request, reason=PERSONAL["reason"])
    w.flush()
    with pytest.raises(review.ServiceError):
        approve_annex(w.team.approver, request.annex_iii.get())
    return request, w.team.admins


def _at(moment_of: str, *, admins: bool = True) -> Callable[[World, bool], Outcome]:
    """Let the request's ``warn_at`` / ``breach_at`` / ``due_at`` pass and fire the due timers."""

    def run(w: World, assigned: bool = True) -> Outcome:
        request = w.in_review(assigned=assigned)
        with time_machine.travel(getattr(request, moment_of) + timedelta(seconds=1), tick=False):
            fire_due()
        who = {w.team.reviewer2.email} if assigned else w.team.everyone
        return request, who | (w.team.admins if admins else set())

    return run


def preservation_expiring(w: World) -> Outcome:
    request = w.submit(instrument="epoc_pr")
    assert request.status == Status.PRESERVING, request.decision
    w.flush()
    notice = request.timers.get(kind="preservation_expiry_notice")
    with time_machine.travel(notice.due_at + timedelta(seconds=1), tick=False):
        fire_due()
    return request, {w.officer.email}


def ea_window_ended(w: World) -> Outcome:
    from accounts.services import authority_create, officer_create

    court = authority_create(name="Tribunal judiciaire de Lyon", country="FR", authority_type="investigating_judge",
                             domains=["justice-lyon.fr"], switchboard_phone="+33400000000")
    judge = officer_create(language="en", authority=court, email="juge@justice-lyon.fr")
    request = w.submit(judge, data_categories=["traffic"], validation=None, enforcing_authority_notified=True)
    assert request.status == Status.AWAITING_ENFORCING_AUTHORITY, request.decision
    w.flush()
    assert request.hold_until is not None
    with time_machine.travel(request.hold_until + timedelta(seconds=1), tick=False):
        fire_due()
    return request, {judge.email}


EA_ADDRESS = "epoc.notifications@justice.example.be"


def annex_iii_enforcing_authority(w: World) -> Outcome:
    """The enforcing authority notified under Art. 8 raises a ground (Art. 12); one member of the
    legal team signs the refusal, a second approves it: the enforcing authority gets its copy."""
    from accounts.services import authority_create, officer_create

    court = authority_create(name="Tribunal judiciaire de Lyon", country="FR", authority_type="investigating_judge",
                             domains=["justice-lyon.fr"], switchboard_phone="+33400000000")
    judge = officer_create(language="en", authority=court, email="juge@justice-lyon.fr")
    request = w.submit(judge, data_categories=["traffic"], validation=None, enforcing_authority_notified=True,
                       enforcing_authority_email=EA_ADDRESS)
    assert request.status == Status.AWAITING_ENFORCING_AUTHORITY, request.decision
    form = review.ea_object(actor=w.team.reviewer, request=request, grounds=PERSONAL["reason"])
    w.flush()
    approve_annex(w.team.approver, form)
    return request, {EA_ADDRESS}


def deadline_warn_unassigned(w: World) -> Outcome:
    return _at("warn_at", admins=False)(w, False)


@dataclass(frozen=True)
class Scenario:
    topic: str
    run: Callable[..., Outcome]
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or self.topic


SCENARIOS = [
    Scenario("notify.new_request", new_request),
    Scenario("notify.clarification_requested", clarification_requested),
    Scenario("notify.decision", decision),
    Scenario("notify.response_ready", response_ready),
    Scenario("notify.withdrawn", withdrawn),
    Scenario("notify.message_to_authority", message_to_authority),
    Scenario("notify.message_from_authority", message_from_authority),
    Scenario("notify.message_from_authority", message_from_authority_unassigned,
             "notify.message_from_authority-unassigned"),
    Scenario("notify.assigned", assigned),
    Scenario("notify.approval_needed", approval_needed),
    Scenario("notify.annex_iii_approval_needed", annex_iii_approval_needed),
    Scenario("alert.emergency", emergency),
    Scenario("alert.suspected_fraud", suspected_fraud),
    Scenario("notify.callback_confirmed", callback_confirmed),
    Scenario("alert.four_eyes_refused", four_eyes_refused),
    Scenario("alert.deadline_warn", _at("warn_at", admins=False)),
    Scenario("alert.deadline_warn", deadline_warn_unassigned, "alert.deadline_warn-unassigned"),
    Scenario("alert.deadline_breach", _at("breach_at")),
    Scenario("alert.deadline_due", _at("due_at")),
    # The production_due timer is a reminder: it fires with the deadline's own alert.
    Scenario("alert.reminder", _at("due_at", admins=False)),
    Scenario("notify.preservation_expiring", preservation_expiring),
    Scenario("notify.ea_window_ended", ea_window_ended),
    Scenario("notify.annex_iii_enforcing_authority", annex_iii_enforcing_authority),
]
# Events about an account, not a request: tested in test_account_events.py.
# Events without a request, tested where they arise (the mailbox acknowledgement: tests/mailbox).
# Events without a request in the subject; notify.registration_invite (no case data at all) is exercised
# by tests/requests_app/admin/test_registration.py through the real SMTP sink.
ACCOUNT_EVENTS = {"notify.account_approved", "alert.authority_registration", "alert.account_held", "notify.mailbox_ack",
                  "notify.registration_invite"}

PARAMS = [pytest.param(s, id=s.id) for s in SCENARIOS]
