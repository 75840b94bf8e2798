"""The application's PostgreSQL role (DESIGN.md §4.5; security.md §1.7 item 3, matrix H4).

``grant_app_role`` gives the role DML on the application's tables and only INSERT and SELECT
on the audit trail. The test creates a throwaway role inside its own transaction (rolled back
at the end, like everything else), grants it, and acts as that role with ``SET ROLE``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit import trail as audit
from audit.models import AuditEvent
from requests_app.models import LegalRequest
from requests_app.services.submission import request_submit, request_withdraw
from requests_app.services.validation import validate_next_pending
from requests_app.states import Status
from tests.conftest import epoc_body

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="roles and grants exist only on PostgreSQL"),
]

TABLE = "requests_app_auditevent"
DENIED = f"permission denied for table {TABLE}"


@pytest.fixture
def app_role() -> str:
    """A NOLOGIN role named per process, so parallel test sessions never wait on each other."""
    role = f"lrp_app_test_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE ROLE "{role}" NOLOGIN NOSUPERUSER NOBYPASSRLS')
    call_command("grant_app_role", role=role)
    return role


@contextmanager
def acting_as(role: str) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{role}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def validated(**overrides):
    from requests_app.api.serializers import RequestCreateSerializer

    serializer = RequestCreateSerializer(data=epoc_body(**overrides))
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def run_refused(sql: str, match: str = DENIED) -> None:
    with connection.cursor() as cursor, pytest.raises(DatabaseError, match=match), transaction.atomic():
        cursor.execute(sql)


def test_the_role_is_really_in_effect(app_role):
    with acting_as(app_role), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (app_role, False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] != app_role


def test_the_app_role_inserts_and_reads_audit_events(app_role):
    audit.record("test.before")
    with acting_as(app_role):
        event = audit.record("test.as_app_role", data={"who": "app"})
        assert AuditEvent.objects.filter(pk=event.pk).exists()
        assert [e.chain_seq for e in AuditEvent.objects.order_by("seq")] == [1, 2]
        assert audit.verify_chain() is None


def test_the_app_role_seals_but_cannot_rewrite_the_seals(app_role):
    audit.record("test.sealed")
    with acting_as(app_role):
        seal = audit.seal()
        assert seal is not None and seal.heads[0][1] == 1
        assert audit.verify_chain() is None
        for statement in ("UPDATE audit_seal SET heads = '[]'", "DELETE FROM audit_seal", "TRUNCATE audit_seal"):
            run_refused(statement, "permission denied for table audit_seal")
    assert audit.verify_chain() is None


@pytest.mark.parametrize("statement", [
    f"UPDATE {TABLE} SET action = 'x'",
    f"DELETE FROM {TABLE}",
    f"TRUNCATE {TABLE}",
    f"TRUNCATE {TABLE} CASCADE",
], ids=["update", "delete", "truncate", "truncate-cascade"])
def test_the_app_role_cannot_update_delete_or_truncate_the_audit_trail(app_role, statement):
    audit.record("test.protected")
    with acting_as(app_role):
        run_refused(statement)
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["test.protected"]
    assert audit.verify_chain() is None


@pytest.mark.parametrize("statement,match", [
    ("SET session_replication_role = replica", "permission denied"),
    (f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL", "must be owner"),
    ("DROP TRIGGER requests_app_audit_no_update_delete ON requests_app_auditevent", "must be owner"),
    (f"ALTER TABLE {TABLE} OWNER TO CURRENT_USER", "must be owner"),
], ids=["replication-role", "disable-triggers", "drop-trigger", "take-ownership"])
def test_the_app_role_cannot_switch_the_protection_off(app_role, statement, match):
    with acting_as(app_role):
        run_refused(statement, match)


def test_the_app_role_still_writes_legal_requests(app_role, officer):
    with acting_as(app_role):
        request, created = request_submit(actor=officer, data=validated())
        assert created and request.reference.startswith("LRP-")
        # The role takes it from the validation queue (FOR UPDATE SKIP LOCKED) and decides it.
        assert validate_next_pending() == request.pk
        request.refresh_from_db()
        assert request.status == Status.IN_REVIEW
        other, _ = request_submit(actor=officer, data=validated(case_reference="PN-2026-002"))
        request_withdraw(actor=officer, request=other, reason="duplicate")
        assert LegalRequest.objects.get(pk=other.pk).status == Status.WITHDRAWN
        assert audit.verify_chain() is None
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions.count("request.submitted") == 2 and "request.validated" in actions
