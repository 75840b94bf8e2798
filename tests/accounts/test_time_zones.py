"""Every time shown to a person is in their own zone, labelled, with UTC on hover; the API stays
in UTC (issue 13 item 1; accounts/zones.py, accounts/templatetags/local_time.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from tests.web.conftest import make_request as make_request
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"
# The frozen clock (tests/conftest.py) is 2026-09-15 08:00 UTC unless PORTAL_TEST_NOW moves it.


def detail_page(client: Client, legal_request) -> str:
    return client.get(reverse("portal:request_detail", args=[legal_request.reference])).content.decode()


@pytest.fixture
def paris_midnight_request(make_request):
    # The officer typed 1 Sep 2026 00:00 in Paris: 31 Aug 22:00 UTC.
    return make_request(data_from="2026-08-31T22:00:00+00:00", data_to="2026-09-10T22:00:00+00:00")


@pytest.fixture(autouse=True)
def _outbox_stays_pending(no_publish):
    """Outbox rows stay pending."""


def test_an_officer_reads_times_in_the_zone_of_the_authoritys_country(paris_midnight_request, officer):
    page = detail_page(signed_in(officer), paris_midnight_request)
    assert ('<time datetime="2026-08-31T22:00:00Z" title="2026-08-31 22:00 UTC">'
            "2026-09-01 00:00 CEST (Europe/Paris)</time>") in page
    assert "UTC</time>" not in page  # no time labelled UTC that is not


def test_a_chosen_zone_is_kept_audited_and_used(paris_midnight_request, officer):
    client = signed_in(officer)
    response = client.post(reverse("portal:time_zone"), {"time_zone": "America/New_York"})
    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.time_zone == "America/New_York"
    event = AuditEvent.objects.get(action="user.time_zone_changed")
    assert event.actor_id == officer.pk and event.data == {"time_zone": "America/New_York"}
    assert "2026-08-31 18:00 EDT (America/New_York)" in detail_page(client, paris_midnight_request)

    # Back to the default.
    client.post(reverse("portal:time_zone"), {"time_zone": ""})
    officer.refresh_from_db()
    assert officer.time_zone == ""
    assert "2026-09-01 00:00 CEST (Europe/Paris)" in detail_page(client, paris_midnight_request)


def test_an_unknown_zone_is_refused_and_changes_nothing(officer):
    client = signed_in(officer)
    response = client.post(reverse("portal:time_zone"), {"time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 400
    officer.refresh_from_db()
    assert officer.time_zone == ""
    assert not AuditEvent.objects.filter(action="user.time_zone_changed").exists()


def test_the_legal_team_reads_the_admin_in_the_providers_zone(paris_midnight_request, settings, reviewer):
    client = Client()
    client.force_login(reviewer, backend=BACKEND)
    settings.PROVIDER_RULES = {**settings.PROVIDER_RULES, "ESTABLISHMENT_TIME_ZONE": "Europe/Brussels"}
    page = client.get(reverse("admin:requests_app_legalrequest_change", args=[paris_midnight_request.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    # Django's admin formats in the active zone: 1 Sep 00:00 Brussels, not "Aug. 31, 2026, 10 p.m.".
    assert "Aug. 31, 2026, 10 p.m." not in body
    assert "Sept. 1, 2026, midnight" in body or "2026-09-01 00:00" in body


def test_the_time_zone_page_is_open_to_the_legal_team_too(reviewer):
    client = Client()
    client.force_login(reviewer, backend=BACKEND)
    page = client.get(reverse("portal:time_zone"))
    assert page.status_code == 200
    assert "Default (Europe/Brussels, the provider&#x27;s zone)" in page.content.decode()


def test_the_api_stays_in_utc(paris_midnight_request, officer):
    from accounts.services import token_issue

    _token, secret = token_issue(actor=officer, user=officer, name="case system")
    User.objects.filter(pk=officer.pk).update(time_zone="Asia/Tokyo")
    response = Client().get(f"/api/v1/requests/{paris_midnight_request.reference}/",
                            HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    data_from = response.json()["data_from"]
    assert datetime.fromisoformat(data_from.replace("Z", "+00:00")).utcoffset() == UTC.utcoffset(None)


# --- The profile names the zone "Default" resolves to, and why ------------------------------------
def test_the_profile_names_the_default_zone_and_where_it_comes_from(officer):
    page = signed_in(officer).get(reverse("portal:profile")).content.decode()
    assert "Default (Europe/Paris, from your authority&#x27;s country)" in page or \
        "Default (Europe/Paris, from your authority's country)" in page


def test_the_time_zone_page_names_the_default_and_where_it_comes_from(officer):
    page = signed_in(officer).get(reverse("portal:time_zone")).content.decode()
    assert "Default (Europe/Paris, from your authority" in page


def test_the_legal_teams_default_is_the_providers_zone_and_says_so(reviewer):
    client = Client()
    client.force_login(reviewer, backend=BACKEND)
    page = client.get(reverse("portal:profile")).content.decode()
    assert "Default (Europe/Brussels, the provider&#x27;s zone)" in page or \
        "Default (Europe/Brussels, the provider's zone)" in page


def test_a_chosen_zone_is_named_on_the_profile(officer):
    User.objects.filter(pk=officer.pk).update(time_zone="Asia/Tokyo")
    officer.refresh_from_db()
    page = signed_in(officer).get(reverse("portal:profile")).content.decode()
    assert '<dd id="profile-time-zone">Asia/Tokyo' in page


def test_a_revoked_tokens_time_is_zoned_and_labelled(officer):
    """The token list said "Revoked 2026-09-15 10:00": no zone, no UTC (issue 13 item 1)."""
    from accounts.services import token_issue, token_revoke

    token, _secret = token_issue(actor=officer, user=officer, name="case system")
    token_revoke(actor=officer, token=token)
    page = signed_in(officer).get(reverse("portal:tokens")).content.decode()
    # On whatever instant the suite's clock is frozen at (PORTAL_TEST_NOW moves it).
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    revoked = timezone.now().astimezone(UTC).replace(second=0, microsecond=0)
    local = revoked.astimezone(ZoneInfo("Europe/Paris"))
    assert (f'Revoked <time datetime="{revoked:%Y-%m-%dT%H:%M}:00Z" title="{revoked:%Y-%m-%d %H:%M} UTC">'
            f"{local:%Y-%m-%d %H:%M} {local.tzname()} (Europe/Paris)</time>") in page


def test_the_default_zone_is_named_in_french(officer):
    User.objects.filter(pk=officer.pk).update(language="fr")
    officer.refresh_from_db()
    page = signed_in(officer).get(reverse("portal:profile")).content.decode()
    assert "Par défaut (Europe/Paris, selon le pays de votre autorité)" in page
