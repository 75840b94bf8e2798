"""The SQL seeder of the 1M-row benchmarks (bench/admin_queue.py, also used by `make load`).

It writes rows with INSERT … SELECT, bypassing the model, so a NOT NULL column added to
LegalRequest after it was written (Django sets no database default) made every seed fail
with a NotNullViolation (``designated_unresponsive``, then ``offence_country`` and
``late_registration``): the 1M databases of `make bench` and `make load` could not be built.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.roles import ADMIN, REVIEWER
from bench import admin_queue
from requests_app.models import LegalRequest, Target

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_writes_rows_that_load_through_the_model() -> None:
    for name in (ADMIN, REVIEWER):
        Group.objects.get_or_create(name=name)

    admin_queue.seed(200)

    assert LegalRequest.objects.count() == 200
    assert Target.objects.count() == 20  # one target per ten requests
    first = LegalRequest.objects.order_by("id").first()
    assert first is not None
    assert first.reference == "LRP-2025-0000001"
    # The columns the seeder does not name get their type's neutral value.
    assert first.designated_unresponsive is False
    assert first.late_registration is False
    assert first.offence_country == ""
    # Every instrument's lifecycle is set (the admin queue filters on it).
    assert not LegalRequest.objects.filter(lifecycle="").exists()


def test_seed_skips_a_database_that_already_holds_the_rows() -> None:
    for name in (ADMIN, REVIEWER):
        Group.objects.get_or_create(name=name)
    admin_queue.seed(50)
    first_ids = list(LegalRequest.objects.order_by("id").values_list("id", flat=True)[:5])

    assert admin_queue.seed(50) == 0.0  # skipped: nothing truncated or rewritten
    assert list(LegalRequest.objects.order_by("id").values_list("id", flat=True)[:5]) == first_ids
