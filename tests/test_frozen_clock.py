"""The suite's clock is frozen (tests/conftest.py, ``frozen_clock``): no result depends on the day it runs."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.conftest import FROZEN_AT


def test_every_test_starts_at_the_frozen_instant_and_the_clock_stands_still():
    first = timezone.now()
    time.sleep(0.01)
    assert first == FROZEN_AT == timezone.now()


def test_a_test_travels_explicitly_and_comes_back():
    with time_machine.travel(FROZEN_AT + timedelta(days=3), tick=False):
        assert timezone.now() == FROZEN_AT + timedelta(days=3)
    assert timezone.now() == FROZEN_AT


@pytest.mark.running_clock
def test_a_running_clock_starts_at_the_instant_and_runs():
    start = timezone.now()
    assert timedelta(0) <= start - FROZEN_AT < timedelta(seconds=5)
    time.sleep(0.01)
    assert timezone.now() > start
