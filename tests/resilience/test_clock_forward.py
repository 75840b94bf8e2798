"""The clock moved forward across every kind of deadline (issue 9 §2): each timer fires once,
in the order of its due time, each e-mail goes out once (through the real SMTP test server),
however often the beat sweep runs; afterwards submitted = decided = audited, every state is
the end of its audited transitions and ``verify_audit`` passes.

The scenario (requests of every lifecycle, the sweep, the timer and e-mail assertions) is the
one of tests/notifications/test_clock_forward.py; this adds the books and the audit chain."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from requests_app.states import Status
from tests.notifications.conftest import _outbox_stays_pending, notify_settings, smtp, submit, team  # noqa: F401
from tests.notifications.test_clock_forward import (  # noqa: F401 (fixture)
    HORIZON,
    assert_each_email_went_out_once,
    assert_each_timer_fired_once_in_order,
    requests_of_every_kind,
    sweep,
)

from .conftest import assert_books_balance

pytestmark = pytest.mark.django_db


def test_the_clock_stepped_past_every_deadline_fires_each_timer_once_and_balances_the_books(
        smtp, requests_of_every_kind):  # noqa: F811
    start = timezone.now()
    # Three jumps (kept few: each sweep re-plans every notification row): past the emergency's
    # 8 hours and the DSA acknowledgement, past the 10-day periods, past every deadline.
    offsets = [timedelta(hours=9), timedelta(days=12), HORIZON]
    for offset in offsets:
        sweep(start + offset)
    end = start + offsets[-1]
    assert_each_timer_fired_once_in_order(end)
    assert_each_email_went_out_once([(m.rcpt_tos[0], m.subject) for m in smtp.messages])
    before = len(smtp.messages)
    sweep(end + timedelta(days=1), times=3)  # more beat ticks: nothing fires or goes out again
    assert len(smtp.messages) == before
    preservation = requests_of_every_kind["preservation"]
    preservation.refresh_from_db()
    assert preservation.status == Status.RELEASED
    assert_books_balance([r.pk for r in requests_of_every_kind.values()])
