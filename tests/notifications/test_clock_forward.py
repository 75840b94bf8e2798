"""The clock moved forward across every kind of deadline (issue 9 item 2): each timer fires
once, in order of its due time, and each e-mail goes out once, however often the sweep runs."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.models import Notification, Timer
from requests_app.states import Status
from requests_app.timers import fire_due

from .conftest import deliver

pytestmark = pytest.mark.django_db

DSA = {"legal_basis": "Art. 10 DSA", "statement_of_reasons": "Identify the seller.",
       "redress_information": "Tribunal administratif", "territorial_scope": "FR", "content_urls": []}
# Every kind a request of these lifecycles schedules and that falls due within the horizon.
EXPECTED_KINDS = {"deadline_warn", "deadline_breach", "deadline_due", "production_due", "preservation_expiry",
                  "preservation_expiry_notice", "ea_window_end", "ex_post_validation_mark", "dsa_receipt_ack_due",
                  "dsa_effect_report_due"}
HORIZON = timedelta(days=100)


@pytest.fixture
def requests_of_every_kind(submit, officer, team):
    from accounts.services import authority_create, officer_create

    court = authority_create(name="Tribunal judiciaire de Lyon", country="FR", authority_type="investigating_judge",
                             domains=["justice-lyon.fr"], switchboard_phone="+33400000000")
    judge = officer_create(language="en", authority=court, email="juge@justice-lyon.fr")
    made = {
        "production": submit(),
        "preservation": submit(instrument="epoc_pr"),
        "dsa": submit(instrument="dsa_information_order", dsa=DSA),
        "emergency": submit(emergency=True, validation=None, emergency_reason="Threat to life"),
        "enforcing_authority": submit(judge, data_categories=["traffic"], validation=None,
                                      enforcing_authority_notified=True),
    }
    assert made["preservation"].status == Status.PRESERVING
    assert made["enforcing_authority"].status == Status.AWAITING_ENFORCING_AUTHORITY
    assert made["emergency"].status == Status.VERIFICATION_HOLD
    deliver()
    return made


def sweep(moment: datetime, times: int = 2) -> None:
    with time_machine.travel(moment, tick=False):
        for _ in range(times):  # duplicate beat ticks
            fire_due()
    deliver()  # the SMTP exchange runs on the test's clock (the sink's event loop needs one that moves)
    deliver()


def assert_each_timer_fired_once_in_order(end: datetime) -> None:
    fired = list(AuditEvent.objects.filter(action="timer.fired").order_by("seq"))
    per_timer = Counter(event.object_id for event in fired)
    assert per_timer and set(per_timer.values()) == {1}, "every timer fires exactly once"
    timers = Timer.objects.in_bulk([int(pk) for pk in per_timer])
    assert {str(pk) for pk, t in timers.items() if t.fired_at} == set(per_timer)
    due_order = [timers[int(event.object_id)].due_at for event in fired]
    assert due_order == sorted(due_order), "timers fire in the order of their due time"
    assert {t.kind for t in timers.values()} >= EXPECTED_KINDS
    left = Timer.objects.filter(due_at__lte=end, fired_at__isnull=True, cancelled_at__isnull=True)
    assert not left.exists(), f"due but not fired: {list(left.values_list('kind', flat=True))}"


def assert_each_email_went_out_once(messages: list[tuple[str, str]]) -> None:
    """``messages``: (recipient, subject) of every e-mail sent since the requests were made."""
    sent = Notification.objects.filter(status="sent")
    assert sent.exists()
    assert len(messages) == sent.count(), "one e-mail per notification row"
    per_event = Counter(sent.values_list("outbox_id", "recipient"))
    assert [pair for pair, n in per_event.items() if n > 1] == [], "one e-mail per event and recipient"
    alerts = OutboxMessage.objects.filter(topic__startswith="alert.deadline_")
    assert Counter(alerts.values_list("dedup_key", flat=True)).most_common(1)[0][1] == 1


def test_stepping_the_clock_hour_by_hour_then_day_by_day(mailoutbox, requests_of_every_kind):
    start = timezone.now()
    # Hourly through the hour-based periods, then in growing strides past the day-based ones.
    offsets = [timedelta(hours=h) for h in range(1, 13)] + [timedelta(hours=h) for h in range(18, 73, 6)]
    offsets += [timedelta(days=d) for d in range(5, 101, 5)]
    for offset in offsets:
        moment = start + offset
        sweep(moment)
    assert_each_timer_fired_once_in_order(moment)
    assert_each_email_went_out_once([(m.to[0], m.subject) for m in mailoutbox])
    assert {len(m.to) for m in mailoutbox} == {1}
    before = len(mailoutbox)
    sweep(moment + timedelta(days=1), times=3)
    assert len(mailoutbox) == before
    assert requests_of_every_kind["preservation"].timers.get(kind="preservation_expiry").fired_at is not None


def test_one_jump_past_every_deadline(smtp, requests_of_every_kind):
    """The same through a real SMTP server."""
    end = timezone.now() + HORIZON
    with time_machine.travel(end, tick=False):
        first = fire_due()
        assert first > 0
        assert fire_due() == 0 and fire_due() == 0
    deliver()
    deliver()
    assert_each_timer_fired_once_in_order(end)
    assert_each_email_went_out_once([(m.rcpt_tos[0], m.subject) for m in smtp.messages])
    preservation = requests_of_every_kind["preservation"]
    preservation.refresh_from_db()
    assert preservation.status == Status.RELEASED
