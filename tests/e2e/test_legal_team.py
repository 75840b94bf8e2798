"""What the legal team must be able to do in the admin for newcomers: vet an authority's registration
request, and approve an officer who signed up."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import ApprovalStatus, AuthorityRegistrationRequest, User
from accounts.services import officer_create

from .conftest import XSS_PROBE, legal_admin_user, new_context, sign_in, watch

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_authority_registration_request_can_be_vetted_in_the_admin(page: Page, browser, live_server,
                                                                       monkeypatch):
    monkeypatch.setattr("requests_app.web.views.registration.RATE_LIMIT", 1000)  # every test comes from 127.0.0.1
    name = f"Gendarmerie {XSS_PROBE}"
    page.goto("/register-authority/")
    page.fill("#id_authority_name", name)
    page.fill("#id_country", "FR")
    page.select_option("#id_authority_type", "other_competent")
    page.fill("#id_email_domain", "gendarmerie.example.fr")
    page.fill("#id_contact_email", "chef@gendarmerie.example.fr")
    page.fill("#id_switchboard_phone", "+33100000001")
    page.fill("#id_official_source", "https://annuaire.example.fr/gendarmerie")
    page.fill("#id_note", XSS_PROBE)
    page.click("#authority-registration-submit")
    page.wait_for_url(re.compile(r"/register-authority/sent/$"))
    registration = AuthorityRegistrationRequest.objects.get()
    assert registration.authority_name == name

    admin_context = new_context(browser, live_server.url)
    try:
        sign_in(admin_context, legal_admin_user(), live_server.url)
        admin_page = admin_context.new_page()
        seen = watch(admin_page)
        response = admin_page.goto("/admin/accounts/authorityregistrationrequest/")
        assert response is not None and response.status == 200
        expect(admin_page.locator("#result_list")).to_contain_text(name)
        assert admin_page.evaluate("typeof window.__xss") == "undefined" and seen.dialogs == []
    finally:
        admin_context.close()


def test_a_pending_officer_can_be_approved_by_the_legal_team_in_the_admin(page: Page, context, live_server,
                                                                         authority):
    pending_officer = officer_create(language="en", authority=authority, email="newcomer@interieur.gouv.fr")
    User.objects.filter(pk=pending_officer.pk).update(approval_status=ApprovalStatus.PENDING, approved_at=None)
    sign_in(context, legal_admin_user(), live_server.url)
    response = page.goto("/admin/accounts/user/")
    assert response is not None and response.status == 200
    row = page.locator("#result_list tr", has_text=pending_officer.email)
    row.locator("input.action-select").check()
    action = page.locator("select[name=action] option", has_text=re.compile("approve", re.IGNORECASE))
    page.select_option("select[name=action]", value=action.first.get_attribute("value"))
    page.locator("button[name=index], input[name=index]").first.click()
    page.wait_for_load_state()
    pending_officer.refresh_from_db()
    assert pending_officer.approval_status == ApprovalStatus.APPROVED
