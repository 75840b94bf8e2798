"""Personas and helpers for the authority web portal tests.

Officers sign in with ``client.force_login``; requests are created through the real
services (``request_submit`` + ``request_validate``). Outbox rows are never published.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import ApprovalStatus, User
from accounts.services import officer_create
from requests_app.api.serializers import RequestCreateSerializer
from requests_app.models import LegalRequest
from requests_app.services.submission import request_submit
from requests_app.services.validation import request_validate
from tests.conftest import epoc_body


@pytest.fixture(autouse=True)
def _outbox_stays_pending(no_publish):
    """Every test here: outbox rows stay pending (tests/conftest.py, ``no_publish``)."""


@pytest.fixture
def client():
    """An anonymous client with an address of its own: rate-limit counters live in the shared
    cache (Redis), which parallel workers and earlier runs share, so nobody clears it."""
    octets = uuid.uuid4().bytes[:3]
    return Client(REMOTE_ADDR=f"10.{octets[0]}.{octets[1]}.{octets[2]}")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reauthenticated(client: Client, user: User) -> Client:
    """What allauth records after a successful re-authentication (password step-up)."""
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "reauthenticated": True},
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


@pytest.fixture
def officer_client(officer) -> Client:
    return signed_in(officer)


@pytest.fixture
def colleague_client(colleague) -> Client:
    return signed_in(colleague)


@pytest.fixture
def other_client(other_officer) -> Client:
    return signed_in(other_officer)


@pytest.fixture
def pending_officer(authority) -> User:
    user = officer_create(language="en", authority=authority, email="newcomer@interieur.gouv.fr",
                          password="long-enough-password-1")
    User.objects.filter(pk=user.pk).update(approval_status=ApprovalStatus.PENDING, approved_at=None)
    user.refresh_from_db()
    return user


@pytest.fixture
def pending_client(pending_officer) -> Client:
    return signed_in(pending_officer)


@pytest.fixture
def authority_admin(authority) -> User:
    user = officer_create(language="en", authority=authority, email="chief@interieur.gouv.fr",
                          password="long-enough-password-2")
    User.objects.filter(pk=user.pk).update(is_authority_admin=True)
    user.refresh_from_db()
    return user


@pytest.fixture
def admin_client(authority_admin) -> Client:
    return signed_in(authority_admin)


def validated(**overrides: Any) -> dict[str, Any]:
    serializer = RequestCreateSerializer(data=epoc_body(**overrides))
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@pytest.fixture
def make_request(officer) -> Callable[..., LegalRequest]:
    def make(actor: Any = None, *, validate: bool = True, **overrides: Any) -> LegalRequest:
        legal_request, _ = request_submit(actor=actor or officer, data=validated(**overrides), channel="web")
        if validate:
            request_validate(request_id=legal_request.pk)
        legal_request.refresh_from_db()
        return legal_request

    return make


@pytest.fixture
def own_request(make_request) -> LegalRequest:
    return make_request()
