"""Root-of-trust data changes only with a second person (issue 14 item 3)."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from accounts import root_of_trust
from accounts.models import (
    ApiToken,
    Authority,
    AuthorityRegistrationRequest,
    ChangeStatus,
    RegistrationStatus,
    RootOfTrustChange,
    User,
)
from accounts.services import authority_registration_decide, authority_set_vetting, authority_suspend, token_issue
from audit.models import AuditEvent
from requests_app.permissions import ADMIN
from tests.conftest import staff

pytestmark = pytest.mark.django_db
BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def admin2(db) -> User:
    return staff("admin2@provider.example", ADMIN)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def test_a_switchboard_change_applies_only_when_a_second_person_approves(legal_admin, admin2, authority):
    change = root_of_trust.authority_change_propose(actor=legal_admin, authority=authority,
                                                    changes={"switchboard_phone": "+33 1 40 97 50 50"},
                                                    reason="Annuaire de l'administration, 2026-09-14")
    authority.refresh_from_db()
    assert authority.switchboard_phone == "+33100000000"  # nothing changed yet
    assert change.changes == {"switchboard_phone": "+33140975050"}
    assert change.previous == {"switchboard_phone": "+33100000000"}

    with pytest.raises(PermissionDenied):
        root_of_trust.change_approve(actor=legal_admin, change=change, digest=root_of_trust.change_digest(change))
    change.refresh_from_db()
    authority.refresh_from_db()
    assert change.status == ChangeStatus.PROPOSED and authority.switchboard_phone == "+33100000000"

    root_of_trust.change_approve(actor=admin2, change=change, digest=root_of_trust.change_digest(change))
    authority.refresh_from_db()
    change.refresh_from_db()
    assert authority.switchboard_phone == "+33140975050"
    assert change.status == ChangeStatus.APPLIED and change.decided_by == admin2
    approved = AuditEvent.objects.get(action="root_of_trust.approved")
    assert approved.actor_id == admin2.pk and approved.data["changes"] == {"switchboard_phone": "+33140975050"}
    assert approved.data["proposed_by"] == legal_admin.pk
    assert AuditEvent.objects.filter(action="root_of_trust.proposed", actor_id=legal_admin.pk).count() == 1


def test_the_approval_is_bound_to_the_values_shown(legal_admin, admin2, authority):
    change = root_of_trust.authority_change_propose(actor=legal_admin, authority=authority,
                                                    changes={"email_domains": "interieur.gouv.fr, police.fr"},
                                                    reason="Official directory")
    shown = root_of_trust.change_digest(change)
    # The proposal is altered after the approver looked at it.
    RootOfTrustChange.objects.filter(pk=change.pk).update(changes={"email_domains": ["evil.example"]})
    with pytest.raises(ValidationError):
        root_of_trust.change_approve(actor=admin2, change=change, digest=shown)
    authority.refresh_from_db()
    assert authority.email_domains == ["interieur.gouv.fr"]
    assert RootOfTrustChange.objects.get(pk=change.pk).status == ChangeStatus.PROPOSED


def test_a_record_changed_since_the_proposal_is_not_overwritten(legal_admin, admin2, authority):
    change = root_of_trust.authority_change_propose(actor=legal_admin, authority=authority,
                                                    changes={"country": "be"}, reason="Moved")
    Authority.objects.filter(pk=authority.pk).update(country="LU")
    with pytest.raises(ValidationError):
        root_of_trust.change_approve(actor=admin2, change=change, digest=root_of_trust.change_digest(change))
    authority.refresh_from_db()
    assert authority.country == "LU"


def test_a_refusal_changes_nothing_and_is_audited(legal_admin, admin2, authority):
    change = root_of_trust.authority_change_propose(actor=legal_admin, authority=authority,
                                                    changes={"authority_type": "prosecutor"}, reason="Reorg")
    with pytest.raises(PermissionDenied):
        root_of_trust.change_refuse(actor=legal_admin, change=change, note="I changed my mind")
    root_of_trust.change_refuse(actor=admin2, change=change, note="Not a prosecutor's office")
    authority.refresh_from_db()
    assert authority.authority_type == "other_competent"
    assert RootOfTrustChange.objects.get(pk=change.pk).status == ChangeStatus.REFUSED
    assert actions()[-2:] == ["root_of_trust.proposed", "root_of_trust.refused"]
    with pytest.raises(ValidationError):  # decided once
        root_of_trust.change_approve(actor=admin2, change=change, digest=root_of_trust.change_digest(change))


@pytest.mark.parametrize("changes", [{"switchboard_phone": "call me"}, {"email_domains": "not a domain!"},
                                     {"authority_type": "army"}, {"country": "FRA"}, {"name": "x"}])
def test_bad_values_are_refused_with_nothing_proposed(legal_admin, authority, changes):
    with pytest.raises(ValidationError):
        root_of_trust.authority_change_propose(actor=legal_admin, authority=authority, changes=changes, reason="r")
    assert not RootOfTrustChange.objects.exists()


def test_only_a_legal_administrator_proposes(reviewer, officer, authority):
    for actor in (reviewer, officer):
        with pytest.raises(PermissionDenied):
            root_of_trust.authority_change_propose(actor=actor, authority=authority,
                                                   changes={"country": "BE"}, reason="r")
    assert not RootOfTrustChange.objects.exists()


def test_restoring_a_suspended_authority_needs_a_second_person(legal_admin, admin2, authority, officer):
    authority_suspend(actor=legal_admin, authority=authority, reason="Registry check failed")
    # One person can no longer put it back (main allowed authority_set_vetting(status="verified")).
    with pytest.raises(PermissionDenied):
        authority_set_vetting(actor=legal_admin, authority=authority, status="verified", reason="Fine after all")
    authority.refresh_from_db()
    assert authority.vetting_status == "suspended"

    change = root_of_trust.authority_restore_propose(actor=legal_admin, authority=authority,
                                                     reason="Called the ministry's published number")
    root_of_trust.change_approve(actor=admin2, change=change, digest=root_of_trust.change_digest(change))
    authority.refresh_from_db()
    officer.refresh_from_db()
    assert authority.vetting_status == "verified" and officer.is_approved_officer
    vetting = AuditEvent.objects.filter(action="authority.vetting_changed").order_by("seq").last()
    assert vetting is not None and vetting.data["to"] == "verified" and vetting.actor_id == admin2.pk


def test_an_officers_authority_and_admin_flag_change_with_a_second_person(legal_admin, admin2, officer,
                                                                         make_authority):
    token_issue(user=officer, name="t")
    other = make_authority(name="Gendarmerie", domains=["interieur.gouv.fr"])
    change = root_of_trust.officer_change_propose(actor=legal_admin, officer=officer,
                                                  changes={"authority": other, "is_authority_admin": True},
                                                  reason="Transferred")
    officer.refresh_from_db()
    assert officer.authority_id != other.pk and not officer.is_authority_admin
    root_of_trust.change_approve(actor=admin2, change=change, digest=root_of_trust.change_digest(change))
    officer.refresh_from_db()
    assert officer.authority_id == other.pk and officer.is_authority_admin
    assert not ApiToken.objects.filter(user=officer, revoked_at__isnull=True).exists()


def test_an_officer_cannot_move_to_an_authority_whose_domains_do_not_hold_the_address(legal_admin, officer,
                                                                                     other_authority):
    with pytest.raises(ValidationError):
        root_of_trust.officer_change_propose(actor=legal_admin, officer=officer,
                                             changes={"authority": other_authority}, reason="r")


def _registration() -> AuthorityRegistrationRequest:
    return AuthorityRegistrationRequest.objects.create(
        authority_name="Polícia Judiciária", country="PT", authority_type="other_competent", email_domain="pj.pt",
        contact_email="inspector@pj.pt", switchboard_phone="+351999999999", official_source="trust me")


def test_registering_an_authority_uses_the_number_the_reviewer_verified(legal_admin, admin2):
    registration = _registration()
    # Main registered at once with the registrant's own number.
    with pytest.raises(PermissionDenied):
        authority_registration_decide(actor=legal_admin, registration=registration, register=True)
    assert not Authority.objects.filter(name="Polícia Judiciária").exists()

    change = root_of_trust.registration_propose(actor=legal_admin, registration=registration,
                                                verified_phone="+351 211 967 000",
                                                official_source="https://www.policiajudiciaria.pt/contactos")
    assert not Authority.objects.filter(name="Polícia Judiciária").exists()
    root_of_trust.change_approve(actor=admin2, change=change, digest=root_of_trust.change_digest(change))
    created = Authority.objects.get(name="Polícia Judiciária")
    assert created.switchboard_phone == "+351211967000" and created.is_verified
    assert created.email_domains == ["pj.pt"]
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.REGISTERED and registration.decided_by == admin2


# --- the admin ------------------------------------------------------------------------------------


def test_the_admin_change_form_cannot_change_root_of_trust_fields(legal_admin, authority):
    client = login(legal_admin)
    url = f"/admin/accounts/authority/{authority.pk}/change/"
    assert client.get(url).status_code == 200
    client.post(url, {"name": authority.name, "country": "DE", "authority_type": "prosecutor",
                      "email_domains": '["evil.example"]', "switchboard_phone": "+4930000000",
                      "vetting_status": "verified", "created_at_0": "2026-09-15", "created_at_1": "08:00:00"})
    authority.refresh_from_db()
    assert (authority.country, authority.authority_type, authority.email_domains, authority.switchboard_phone) == (
        "FR", "other_competent", ["interieur.gouv.fr"], "+33100000000")


def test_not_even_a_superuser_changes_an_officers_authority_or_flag_in_the_form(superuser, officer,
                                                                               other_authority):
    client = login(superuser)
    url = f"/admin/accounts/user/{officer.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="authority"' not in page and 'name="is_authority_admin"' not in page
    client.post(url, {"email": officer.email, "username": officer.username, "authority": other_authority.pk,
                      "is_authority_admin": "on", "language": "en", "is_active": "on",
                      "date_joined_0": "2026-09-15", "date_joined_1": "08:00:00"})
    officer.refresh_from_db()
    assert officer.authority_id != other_authority.pk and not officer.is_authority_admin


def _hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(digest_\d+)" value="([0-9a-f]+)"', page))


def test_propose_and_approve_in_the_admin(legal_admin, admin2, authority):
    url = "/admin/accounts/authority/"
    proposer = login(legal_admin)
    form = proposer.post(url, {"action": "propose_switchboard", "_selected_action": [authority.pk]})
    assert form.status_code == 200 and "Verified switchboard number" in form.content.decode()
    proposer.post(url, {"action": "propose_switchboard", "_selected_action": [authority.pk], "apply": "1",
                        "switchboard_phone": "+33140975050", "reason": "Annuaire officiel"})
    authority.refresh_from_db()
    assert authority.switchboard_phone == "+33100000000"
    change = RootOfTrustChange.objects.get()

    changes_url = "/admin/accounts/rootoftrustchange/"
    # The proposer's own approval is refused.
    page = proposer.post(changes_url, {"action": "approve_changes", "_selected_action": [change.pk]})
    proposer.post(changes_url, {"action": "approve_changes", "_selected_action": [change.pk], "apply": "1",
                                **_hidden(page.content.decode())})
    authority.refresh_from_db()
    assert authority.switchboard_phone == "+33100000000"

    approver = login(admin2)
    page = approver.post(changes_url, {"action": "approve_changes", "_selected_action": [change.pk]})
    text = page.content.decode()
    assert "+33140975050" in text and "+33100000000" in text
    approver.post(changes_url, {"action": "approve_changes", "_selected_action": [change.pk], "apply": "1",
                                **_hidden(text)})
    authority.refresh_from_db()
    assert authority.switchboard_phone == "+33140975050"


def test_register_in_the_admin_shows_the_claim_and_asks_for_the_verified_number(legal_admin):
    registration = _registration()
    client = login(legal_admin)
    url = "/admin/accounts/authorityregistrationrequest/"
    page = client.post(url, {"action": "register", "_selected_action": [registration.pk]}).content.decode()
    assert "+351999999999 (claimed by the registrant)" in page and 'name="verified_phone"' in page
    assert 'value="+351999999999"' not in page  # never pre-filled with the claim
    client.post(url, {"action": "register", "_selected_action": [registration.pk], "apply": "1",
                      "verified_phone": "+351211967000", "official_source": "policiajudiciaria.pt"})
    change = RootOfTrustChange.objects.get()
    assert change.changes["switchboard_phone"] == "+351211967000"
    assert change.previous == {"claimed_switchboard_phone": "+351999999999"}
    assert not Authority.objects.filter(name="Polícia Judiciária").exists()


def test_not_even_a_superuser_deletes_an_authority_in_the_admin(superuser, authority):
    # Main let a superuser delete an authority: root-of-trust data gone with one person, unaudited.
    client = login(superuser)
    assert client.get(f"/admin/accounts/authority/{authority.pk}/delete/").status_code == 403
    client.post(f"/admin/accounts/authority/{authority.pk}/delete/", {"post": "yes"})
    assert Authority.objects.filter(pk=authority.pk).exists()
