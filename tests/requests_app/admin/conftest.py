"""Personas and request factories for the legal team's admin.

The legal team (reviewer, second reviewer, approver, second approver, admin) are staff with
the groups of requests_app.permissions, signed in with ``force_login``. Requests are made
directly in the database in the state a test needs (set-up only; the code under test moves
them through the services). Outbox rows are never published.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from requests_app.models import LegalRequest, Target
from tests.conftest import staff  # noqa: F401  (the tests import it from here)

CHANGELIST = "/admin/requests_app/legalrequest/"
BACKEND = "django.contrib.auth.backends.ModelBackend"
XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def change_url(obj: LegalRequest) -> str:
    return f"{CHANGELIST}{obj.pk}/change/"


def act_url(obj: LegalRequest, action: str) -> str:
    return f"{CHANGELIST}{obj.pk}/act/{action}/"


@pytest.fixture(autouse=True)
def _outbox_stays_pending(no_publish):
    """Every test here: outbox rows stay pending (tests/conftest.py, ``no_publish``)."""


def login(user: User) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


@pytest.fixture
def as_reviewer(reviewer) -> Client:
    return login(reviewer)


@pytest.fixture
def as_approver(approver) -> Client:
    return login(approver)


@pytest.fixture
def as_admin(legal_admin) -> Client:
    return login(legal_admin)


_numbers = itertools.count(1)


@pytest.fixture
def make_request(authority, officer) -> Callable[..., LegalRequest]:
    """A request row in the given state; ``targets`` is a list of values (kind username)."""

    def make(*, targets: tuple[str, ...] = ("suspect_account",), **fields: Any) -> LegalRequest:
        n = next(_numbers)
        values: dict[str, Any] = {
            "reference": f"LRP-2026-{n:06d}", "authority": authority, "submitted_by": officer,
            "country": authority.country, "instrument": "epoc", "lifecycle": "production",
            "status": "in_review", "data_categories": ["subscriber"], "case_reference": f"PN-{n:04d}",
            "receipt_hash": "0" * 64, "due_at": timezone.now() + timedelta(days=5),
        }
        values.update(fields)
        request = LegalRequest.objects.create(**values)
        Target.objects.bulk_create([Target(request=request, kind="username", value=v) for v in targets])
        return request

    return make
