"""Fixtures for the REST API tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from requests_app.models import LegalRequest
from tests.conftest import epoc_body

from .helpers import API


@pytest.fixture
def submit(api) -> Callable[..., dict[str, Any]]:
    """POST a valid EPOC (with overrides) as ``client`` (default: the officer) and return the body."""

    def do(client=None, **overrides: Any) -> dict[str, Any]:
        response = (client or api).post(API, epoc_body(**overrides), format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return do


@pytest.fixture
def own_request(submit) -> LegalRequest:
    """A request of the officer's authority."""
    return LegalRequest.objects.get(reference=submit()["reference"])


@pytest.fixture
def threads_db(transactional_db, no_publish) -> None:
    """Committed transactions that other threads' connections can see (the flush at the end is
    safe since the audit table refuses TRUNCATE by privilege, not by trigger; audit.record
    recreates the chain head on the emptied database). Outbox rows are not published."""
