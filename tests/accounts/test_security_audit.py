"""Security events that must be on the audit trail (issue 14 item 11; ASVS 16.3)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from requests_app.models import LegalRequest
from requests_app.services.submission import request_submit
from tests.conftest import validated

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def clean_counters():
    cache.clear()
    yield
    cache.clear()


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def test_a_sign_in_and_a_failed_one_are_audited_with_the_address(officer):
    client = Client(REMOTE_ADDR="198.51.100.7")
    client.post(reverse("account_login"), {"login": officer.email, "password": "wrong-password-123"})
    client.post(reverse("account_login"), {"login": officer.email, "password": PASSWORD})
    failed = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert failed.data["login"] == officer.email and failed.ip_address == "198.51.100.7"
    assert "wrong-password" not in str(failed.data)
    signed_in = AuditEvent.objects.get(action="auth.signed_in")
    assert signed_in.actor_id == officer.pk and signed_in.ip_address == "198.51.100.7"


def test_second_factor_changes_are_audited(officer, rf):
    from allauth.mfa import signals
    from allauth.mfa.models import Authenticator

    request = rf.post("/accounts/2fa/")
    authenticator = Authenticator(user=officer, type=Authenticator.Type.TOTP, data={})
    for signal in (signals.authenticator_added, signals.authenticator_reset, signals.authenticator_removed):
        signal.send(sender=Authenticator, request=request, user=officer, authenticator=authenticator)
    assert actions()[-3:] == ["mfa.added", "mfa.reset", "mfa.removed"]
    assert set(AuditEvent.objects.filter(action__startswith="mfa.").values_list("actor_id", flat=True)) == {officer.pk}


def test_the_legal_teams_reads_and_searches_are_audited(officer, reviewer):
    legal_request, _ = request_submit(actor=officer, data=validated())
    client = Client()
    client.force_login(reviewer, backend="django.contrib.auth.backends.ModelBackend")
    url = f"/admin/requests_app/legalrequest/{legal_request.pk}/change/"
    assert client.get(url).status_code == 200
    viewed = AuditEvent.objects.get(action="request.viewed")
    assert viewed.actor_id == reviewer.pk and viewed.request_id == legal_request.pk
    target = legal_request.targets.first().value
    assert client.get("/admin/requests_app/legalrequest/", {"q": target}).status_code == 200
    searched = AuditEvent.objects.get(action="request.searched")
    assert searched.actor_id == reviewer.pk and searched.data == {"term": target}
    assert LegalRequest.objects.count() == 1


def test_a_refused_admin_page_is_audited(officer, reviewer):
    legal_request, _ = request_submit(actor=officer, data=validated())
    client = Client()
    client.force_login(reviewer, backend="django.contrib.auth.backends.ModelBackend")
    # Approving is an approver's: a reviewer gets 403, and the attempt is on record.
    path = f"/admin/requests_app/legalrequest/{legal_request.pk}/act/approve/"
    assert client.post(path, {"note": "x"}).status_code == 403
    refused = AuditEvent.objects.get(action="access.admin_forbidden")
    assert refused.actor_id == reviewer.pk and refused.data == {"path": path, "method": "POST"}
