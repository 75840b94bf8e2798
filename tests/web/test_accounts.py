"""Sign-up, approval, MFA enforcement, API tokens, officers and the authority registration."""

from __future__ import annotations

import hashlib

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import generate_totp_secret
from allauth.mfa.utils import encrypt
from django.core import mail
from django.urls import reverse

from accounts.models import ApiToken, ApprovalStatus, AuthorityRegistrationRequest, User
from accounts.services import officer_deactivate, token_authenticate, token_issue

from .conftest import reauthenticated, signed_in

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-and-unusual-passphrase-42"


# --- Sign-up ------------------------------------------------------------------------------------

def test_signup_refused_for_a_domain_of_no_authority_with_the_registration_link(client, authority):
    response = client.post(reverse("account_signup"), {"email": "someone@gmail.com", "password1": PASSWORD,
                                                       "password2": PASSWORD})
    assert response.status_code == 200
    body = response.content.decode()
    assert "not on a verified domain" in body
    assert f'href="{reverse("portal:authority_registration")}"' in body
    assert not User.objects.filter(email="someone@gmail.com").exists()


def test_signup_on_a_verified_domain_creates_a_pending_officer(client, authority):
    response = client.post(reverse("account_signup"), {"email": "new.officer@interieur.gouv.fr",
                                                       "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email="new.officer@interieur.gouv.fr")
    assert user.authority == authority
    assert user.approval_status == ApprovalStatus.PENDING
    assert not user.is_approved_officer
    assert len(mail.outbox) == 1  # the address must be verified first


def test_signup_page_links_to_the_authority_registration(client):
    body = client.get(reverse("account_signup")).content.decode()
    assert reverse("portal:authority_registration") in body
    assert '<label for="id_email"' in body


# --- MFA enforcement --------------------------------------------------------------------------

def test_officer_without_authenticator_is_sent_to_mfa_setup(settings, officer_client):
    settings.REQUIRE_MFA = True
    response = officer_client.get(reverse("portal:request_list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")


def test_officer_with_totp_is_allowed(settings, officer, officer_client):
    settings.REQUIRE_MFA = True
    Authenticator.objects.create(user=officer, type=Authenticator.Type.TOTP,
                                 data={"secret": encrypt(generate_totp_secret())})
    assert officer_client.get(reverse("portal:request_list")).status_code == 200
    assert officer_client.get(reverse("portal:home")).status_code == 200


def test_registration_page_is_reachable_before_mfa(settings, officer_client):
    settings.REQUIRE_MFA = True
    assert officer_client.get(reverse("portal:authority_registration")).status_code == 200


# --- API tokens ---------------------------------------------------------------------------------

def test_token_creation_needs_reauthentication(officer, officer_client):
    response = officer_client.post(reverse("portal:token_create"), {"name": "case system", "days": 30})
    assert response.status_code == 302
    assert reverse("account_reauthenticate") in response["Location"]
    assert not ApiToken.objects.exists()


def test_token_is_shown_once_and_only_its_hash_is_stored(officer, officer_client):
    reauthenticated(officer_client, officer)
    response = officer_client.post(reverse("portal:token_create"), {"name": "case system", "days": 30})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = response.context["raw_token"]
    assert raw.startswith("lrp_") and raw in response.content.decode()
    token = ApiToken.objects.get(user=officer)
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiToken.objects.values_list().get())
    assert token_authenticate(raw) is not None
    listing = officer_client.get(reverse("portal:tokens")).content.decode()
    assert raw not in listing
    assert token.prefix in listing


def test_token_lifetime_is_bounded(officer, officer_client, settings):
    reauthenticated(officer_client, officer)
    too_long = settings.API_TOKEN_MAX_DAYS + 1
    response = officer_client.post(reverse("portal:token_create"), {"name": "x", "days": too_long})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_token_revoke(officer, officer_client, colleague):
    token, raw = token_issue(user=officer, name="old")
    theirs, _ = token_issue(user=colleague, name="theirs")
    assert officer_client.post(reverse("portal:token_revoke", args=[theirs.pk])).status_code == 404
    response = officer_client.post(reverse("portal:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    theirs.refresh_from_db()
    assert token.revoked_at is not None and theirs.revoked_at is None
    assert token_authenticate(raw) is None


# --- Officers of the authority ----------------------------------------------------------------

def test_authority_admin_approves_a_pending_officer(admin_client, pending_officer):
    assert pending_officer.email in admin_client.get(reverse("portal:officers")).content.decode()
    response = admin_client.post(reverse("portal:officer_approve", args=[pending_officer.pk]))
    assert response.status_code == 302
    pending_officer.refresh_from_db()
    assert pending_officer.approval_status == ApprovalStatus.APPROVED


def test_authority_admin_cannot_touch_another_authoritys_officer(admin_client, other_officer):
    assert admin_client.post(reverse("portal:officer_deactivate", args=[other_officer.pk])).status_code == 404
    assert admin_client.post(reverse("portal:officer_approve", args=[other_officer.pk])).status_code == 404
    other_officer.refresh_from_db()
    assert other_officer.is_active


def test_plain_officer_cannot_deactivate(officer_client, colleague):
    assert officer_client.post(reverse("portal:officer_deactivate", args=[colleague.pk])).status_code == 403
    colleague.refresh_from_db()
    assert colleague.is_active


def test_deactivation_from_the_officers_page_ends_session_and_tokens(admin_client, officer, officer_client):
    _token, raw = token_issue(user=officer, name="t")
    assert officer_client.get(reverse("portal:request_list")).status_code == 200
    response = admin_client.post(reverse("portal:officer_deactivate", args=[officer.pk]), {"reason": "left"})
    assert response.status_code == 302
    after = officer_client.get(reverse("portal:request_list"))
    assert after.status_code == 302 and after["Location"].startswith(reverse("account_login"))
    assert token_authenticate(raw) is None


def test_service_deactivation_ends_the_session(authority_admin, officer, officer_client):
    token_issue(user=officer, name="t")
    officer_deactivate(actor=authority_admin, officer=officer, reason="moved")
    response = officer_client.get(reverse("portal:home"))
    assert response.status_code == 200 and "Sign in" in response.content.decode()  # anonymous landing
    assert officer_client.get(reverse("portal:tokens"))["Location"].startswith(reverse("account_login"))
    assert ApiToken.objects.get(user=officer).revoked_at is not None


# --- Authority registration --------------------------------------------------------------------

REGISTRATION = {
    "authority_name": "Policia Judiciária", "country": "pt", "authority_type": "other_competent",
    "email_domain": "pj.pt", "contact_email": "inspector@pj.pt", "switchboard_phone": "+351211967000",
    "official_source": "https://www.policiajudiciaria.pt", "note": "",
}


def test_authority_registration_request_is_stored(client):
    response = client.post(reverse("portal:authority_registration"), REGISTRATION)
    assert response.status_code == 302
    stored = AuthorityRegistrationRequest.objects.get()
    assert stored.country == "PT" and stored.status == "pending"
    assert client.get(response["Location"]).status_code == 200


def test_authority_registration_requires_an_address_on_the_domain(client):
    response = client.post(reverse("portal:authority_registration"),
                           {**REGISTRATION, "contact_email": "someone@gmail.com"})
    assert response.status_code == 400
    assert 'href="#id_contact_email"' in response.content.decode()
    assert not AuthorityRegistrationRequest.objects.exists()


def test_authority_registration_is_rate_limited(client):
    for _ in range(5):
        client.post(reverse("portal:authority_registration"), REGISTRATION)
    response = client.post(reverse("portal:authority_registration"), REGISTRATION)
    assert response.status_code == 429
    assert AuthorityRegistrationRequest.objects.count() == 5


def test_staff_get_403_on_officer_pages(db):
    staff = User.objects.create_user(email="lawyer@provider.example", is_staff=True)
    client = signed_in(staff)
    assert client.get(reverse("portal:request_list")).status_code == 403
    assert client.get(reverse("portal:home")).status_code == 200
