"""Issue 14 item 6: the client IP behind a reverse proxy, one setting and one helper.

With ``PORTAL_TRUSTED_PROXY_COUNT = 1`` every request arrives from the proxy's address
(REMOTE_ADDR) and the client is the last ``X-Forwarded-For`` entry. The audit trail, axes'
lockouts (per account and IP), allauth's rate limits and the API throttles see the client.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PROXY = "10.9.9.9"
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def behind_one_proxy(settings):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    cache.clear()
    yield
    cache.clear()


def via_proxy(client_address: str, spoofed: str = "") -> Client:
    chain = f"{spoofed}, {client_address}" if spoofed else client_address
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=chain)


def test_helper_takes_the_entry_the_trusted_proxy_appended(settings):
    from accounts.client_ip import client_ip

    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
    assert client_ip(request) == "203.0.113.7"  # the client-supplied 1.2.3.4 is not trusted
    settings.PORTAL_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == PROXY  # no proxy configured: the header is ignored
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    junk = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_ip(junk) == PROXY


def test_the_audit_trail_records_the_client_not_the_proxy(officer, other_authority, make_authority):
    from accounts.services import officer_create
    from requests_app.services.submission import request_submit
    from tests.web.conftest import validated

    stranger = officer_create(language="en", authority=other_authority, email="x@sta.berlin.de")
    foreign, _ = request_submit(actor=stranger, data=validated(), channel="web")
    client = via_proxy("203.0.113.7", spoofed="198.51.100.1")
    client.force_login(officer)
    assert client.get(reverse("portal:request_detail", args=[foreign.reference])).status_code == 404
    event = AuditEvent.objects.get(action="access.denied", request_id=foreign.pk)
    assert event.ip_address == "203.0.113.7"


def test_axes_locks_the_account_from_the_attacking_address_only(officer, settings):
    from axes.models import AccessAttempt

    # allauth's own per-account limit would refuse the next attempt whatever the address;
    # this test looks at axes (account + IP) alone.
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "100/m/ip"}
    attacker = via_proxy("203.0.113.66")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post(reverse("account_login"), {"login": officer.email, "password": "wrong-password-123"})
    attempt = AccessAttempt.objects.get(username=officer.email)
    assert attempt.ip_address == "203.0.113.66"
    attacker.post(reverse("account_login"), {"login": officer.email, "password": PASSWORD})
    assert "_auth_user_id" not in attacker.session  # locked for the attacker
    owner = via_proxy("198.51.100.7")
    owner.post(reverse("account_login"), {"login": officer.email, "password": PASSWORD})
    assert "_auth_user_id" in owner.session  # the owner, behind the same proxy, signs in


def test_allauth_ip_rate_limit_counts_the_client_not_the_proxy(officer, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip"}
    sprayer = via_proxy("203.0.113.66")
    for n in range(4):
        sprayer.post(reverse("account_login"), {"login": f"nobody{n}@interieur.gouv.fr", "password": "wrong-pass-1"})
    owner = via_proxy("198.51.100.7")
    owner.post(reverse("account_login"), {"login": officer.email, "password": PASSWORD})
    assert "_auth_user_id" in owner.session


def test_api_throttle_for_anonymous_counts_the_client(settings, anon_api):
    from requests_app.api.throttling import AuthorityRateThrottle

    def probe(chain):
        request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=chain)
        request.user = None
        return AuthorityRateThrottle().get_cache_key(request, None)

    assert probe("203.0.113.1") != probe("203.0.113.2")
    # Entries left of the trusted one are the client's own words: they make no new bucket.
    assert probe("1.1.1.1, 203.0.113.1") == probe("2.2.2.2, 203.0.113.1") == probe("203.0.113.1")
