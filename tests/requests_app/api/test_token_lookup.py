"""The API token is read afresh on every call (its SQL compiled once, accounts/token_lookup.py):
revoking it, letting it expire or deactivating its officer refuses the very next call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiToken, VettingStatus
from accounts.services import hash_token, officer_deactivate, token_authenticate, token_issue, token_revoke
from accounts.token_lookup import find_token, token_queryset
from tests.conftest import client_for

from .helpers import API

pytestmark = pytest.mark.django_db


def bearer(raw: str):  # type: ignore[no-untyped-def]
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_the_lookup_loads_what_the_orm_loads(officer):
    token, raw = token_issue(user=officer, name="t")
    found, expected = find_token(hash_token(raw)), token_queryset(hash_token(raw)).get()
    assert found is not None and found.pk == token.pk
    for obj, other in ((found, expected), (found.user, expected.user), (found.user.authority, expected.user.authority)):
        assert {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields} == {
            f.attname: getattr(other, f.attname) for f in type(other)._meta.concrete_fields
        }
    assert find_token(hash_token(raw + "x")) is None


def test_a_revoked_token_is_refused_at_the_next_call(officer):
    token, raw = token_issue(user=officer, name="t")
    client = bearer(raw)
    assert client.get(API).status_code == 200
    token_revoke(actor=officer, token=token)
    response = client.get(API)
    assert response.status_code == 401
    assert token_authenticate(raw) is None


def test_an_expired_token_is_refused(officer):
    token, raw = token_issue(user=officer, name="t")
    assert bearer(raw).get(API).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bearer(raw).get(API).status_code == 401


def test_a_deactivated_officer_is_refused_at_the_next_call(officer, colleague, authority):
    from accounts.models import User

    admin = User.objects.get(pk=colleague.pk)
    User.objects.filter(pk=admin.pk).update(is_authority_admin=True)
    admin.refresh_from_db()
    client = client_for(officer)
    assert client.get(API).status_code == 200
    officer_deactivate(actor=admin, officer=officer, reason="left")
    assert client.get(API).status_code == 401


def test_an_officer_of_a_suspended_authority_authenticates_and_is_forbidden(officer, authority):
    client = client_for(officer)
    assert client.get(API).status_code == 200
    type(authority).objects.filter(pk=authority.pk).update(vetting_status=VettingStatus.SUSPENDED)
    assert client.get(API).status_code == 403


def test_the_first_use_in_a_minute_is_written_once(officer, django_assert_num_queries):
    token, raw = token_issue(user=officer, name="t")
    with django_assert_num_queries(2):  # the row, then last_used_at
        assert token_authenticate(raw) is not None
    with django_assert_num_queries(1):
        assert token_authenticate(raw) is not None
    token.refresh_from_db()
    assert token.last_used_at == timezone.now()
