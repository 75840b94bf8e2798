"""Second-factor enrolment without detours (issue 13 item 3; accounts/enrolment.py)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import generate_totp_secret
from django.test import Client
from django.urls import reverse

from accounts.models import User

PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mfa_required(settings):
    settings.REQUIRE_MFA = True


def own_address_client() -> Client:
    octets = uuid.uuid4().bytes[:3]  # rate-limit counters are shared: an address of its own
    return Client(REMOTE_ADDR=f"10.{octets[0]}.{octets[1]}.{octets[2]}")


def signed_in_with_password(user: User, password: str = PASSWORD) -> Client:
    client = own_address_client()
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302, response.content[:500]
    return client


def enrol_totp(user: User) -> None:
    from allauth.mfa.utils import encrypt

    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP,
                                 data={"secret": encrypt(generate_totp_secret())})


def test_no_second_password_prompt_right_after_signing_in(officer):
    client = signed_in_with_password(officer)
    response = client.get(reverse("mfa_activate_totp"))
    # allauth would send the person to re-authenticate with the password they just typed.
    assert response.status_code == 200
    assert b'id="authenticator_secret"' in response.content or b"authenticator_secret" in response.content


def test_a_sign_in_long_ago_still_asks_for_the_password(officer, frozen_clock):
    client = signed_in_with_password(officer)
    frozen_clock.shift(timedelta(minutes=6))  # past ACCOUNT_REAUTHENTICATION_TIMEOUT (300 s)
    client.get(reverse("portal:home"))  # keep the session alive (idle timeout is longer)
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert reverse("account_reauthenticate") in response["Location"]


def test_the_enrolment_page_says_why_and_what_to_do(officer):
    client = signed_in_with_password(officer)
    response = client.get(reverse("portal:request_list"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_index")
    page = client.get(reverse("mfa_index")).content.decode()
    assert 'id="mfa-enrolment-required"' in page
    assert "A second factor is required before you continue" in page
    assert "recovery codes" in page
    assert 'id="mfa-continue"' not in page  # nothing to continue to before enrolment


def activate_totp_as_a_person_would(client: Client) -> Any:
    """The real allauth flow: read the secret off the page, type the app's current code."""
    import time

    from allauth.mfa import app_settings as mfa_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    page = client.get(reverse("mfa_activate_totp")).content.decode()
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7=]+)"', page)
    if secret is None:
        secret = re.search(r'value="([A-Z2-7=]{16,})"[^>]*id="authenticator_secret"', page)
    assert secret, page
    code = format_hotp_value(hotp_value(secret.group(1), int(time.time()) // mfa_settings.TOTP_PERIOD))
    return client.post(reverse("mfa_activate_totp"), {"code": code})


def test_continue_after_enrolment_returns_to_the_page_asked_for(officer):
    client = signed_in_with_password(officer)
    wanted = reverse("portal:request_list") + "?status=open"
    client.get(wanted)  # sent to enrol; the destination is remembered
    response = activate_totp_as_a_person_would(client)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_view_recovery_codes")
    codes_page = client.get(reverse("mfa_view_recovery_codes"))
    assert codes_page.status_code == 200
    assert b'id="mfa-continue"' in codes_page.content
    response = client.get(reverse("mfa_continue"))
    assert response.status_code == 302 and response["Location"] == wanted
    # Once used, Continue leads home rather than replaying an old destination.
    assert client.get(reverse("mfa_continue"))["Location"] == reverse("portal:home")


def test_continue_returns_the_legal_team_to_the_admin(reviewer):
    from allauth.account.models import EmailAddress

    reviewer.set_password(PASSWORD)
    reviewer.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(user=reviewer, email=reviewer.email,
                                          defaults={"verified": True, "primary": True})
    client = signed_in_with_password(reviewer)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_index")
    enrol_totp(reviewer)
    assert client.get(reverse("mfa_continue"))["Location"] == reverse("admin:index")


def test_continue_never_leads_off_site(officer):
    client = signed_in_with_password(officer)
    enrol_totp(officer)
    session = client.session
    session["mfa_enrolment_destination"] = "https://evil.example/phish"
    session.save()
    assert client.get(reverse("mfa_continue"))["Location"] == reverse("portal:home")


def test_the_enrolment_page_speaks_the_officers_language(officer):
    User.objects.filter(pk=officer.pk).update(language="fr")
    client = signed_in_with_password(officer)
    page = client.get(reverse("mfa_index")).content.decode()
    assert "Un second facteur est requis avant de continuer" in page
